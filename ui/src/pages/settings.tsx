// Settings (/ui/settings): the organization (admins edit, viewers read) and my account (anyone
// signed in as a person: password, this session). A management key has no account of its own.
import { Loading, PageHeader } from '../components/ui.tsx';
import { isAdmin, me, readsOrg } from '../session.ts';
import { OrgAccess, OrgDetails, OrgLimits } from './settings-org.tsx';
import { MyAccount } from './settings-account.tsx';

export default function Settings() {
  const who = me.value;
  if (!who) return <Loading />;
  const admin = isAdmin.value;
  return (
    <>
      <PageHeader title="Settings" subtitle={readsOrg.value ? (admin ? 'The organization and your account.' : 'The organization (read-only for viewers) and your account.') : 'Your account.'} />
      {readsOrg.value && (
        <div class="grid grid-2 ops-settings">
          <OrgDetails />
          <OrgLimits editable={admin} />
          <OrgAccess editable={admin} />
        </div>
      )}
      {who.user && (
        <>
          <h2 class="ops-section-title">My account</h2>
          <div class="grid grid-2 ops-settings"><MyAccount me={who} /></div>
        </>
      )}
    </>
  );
}
