// A team (/ui/teams/:id): its header (admins edit name and description), then one tab at a time
// (the tab is in the URL, ?tab=members, so it can be linked to): keys, members and allocations
// (seed 003), service accounts, limits and budget, the self-service policy (seed 002) and the asset
// set (the team's access rule). Who may change what is the permission table's: admins everything;
// the team's owners its members, service accounts and self-service policy; viewers and members read.
import { useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import { api, type GetTeamsByIdResponse } from '../api/generated.ts';
import { Modal } from '../components/dialog.tsx';
import { Field, Form, TextArea, TextInput } from '../components/form.tsx';
import { toast } from '../components/toast.tsx';
import { Button, ErrorNote, Loading, PageHeader, Tabs } from '../components/ui.tsx';
import { useApi } from '../components/use-api.ts';
import { isAdmin, managesTeam } from '../session.ts';
import { TeamKeys } from './team-keys.tsx';
import { TeamMembers } from './team-members.tsx';
import { TeamServiceAccounts } from './team-service-accounts.tsx';
import { TeamLimits } from './team-limits.tsx';
import { TeamSelfService } from './team-self-service.tsx';
import { TeamAccess } from './team-access.tsx';
import { TeamStats } from './team-stats.tsx';

export type Team = GetTeamsByIdResponse;
type Tab = 'keys' | 'members' | 'service-accounts' | 'limits' | 'self-service' | 'access';
const TABS: Array<{ id: Tab; label: string }> = [
  { id: 'members', label: 'Members & allocations' },
  { id: 'keys', label: 'Keys' },
  { id: 'service-accounts', label: 'Service accounts' },
  { id: 'limits', label: 'Limits & budget' },
  { id: 'self-service', label: 'Self-service' },
  { id: 'access', label: 'Models & access' },
];

export default function TeamPage() {
  const { params } = useRoute();
  const { query, path, route } = useLocation();
  const id = Number(params.id);
  const team = useApi((signal) => api.getTeamsById({ path: { id }, options: { signal } }), [id]);
  const [editing, setEditing] = useState(false);
  const tab: Tab = TABS.some((t) => t.id === query.tab) ? (query.tab as Tab) : 'members';

  if (team.error && !team.data) return <><PageHeader title="Team" /><ErrorNote error={team.error} onRetry={team.reload} /></>;
  if (!team.data) return <Loading />;
  const t = team.data;
  const manages = managesTeam(t.id);
  return (
    <>
      <nav class="breadcrumb" aria-label="Breadcrumb"><a href="/ui/teams">Teams</a> / <span aria-current="page">{t.name}</span></nav>
      <PageHeader
        title={t.name}
        subtitle={<>{t.description ?? <span class="muted">No description</span>} · <span class="mono">{t.slug}</span></>}
        actions={isAdmin.value && <Button onClick={() => setEditing(true)}>Edit team</Button>}
      />
      <TeamStats team={t} />
      <Tabs label="Team sections" value={tab} onChange={(next) => route(`${path}?tab=${next}`, true)} tabs={TABS} />
      <div class="team-tab" role="tabpanel" aria-label={TABS.find((x) => x.id === tab)!.label}>
        {tab === 'keys' && <TeamKeys team={t} />}
        {tab === 'members' && <TeamMembers team={t} manages={manages} />}
        {tab === 'service-accounts' && <TeamServiceAccounts team={t} manages={manages} />}
        {tab === 'limits' && <TeamLimits team={t} onSaved={team.reload} />}
        {tab === 'self-service' && <TeamSelfService team={t} manages={manages} />}
        {tab === 'access' && <TeamAccess team={t} onSaved={team.reload} />}
      </div>
      <Modal title="Edit team" open={editing} onClose={() => setEditing(false)}>
        {editing && <EditForm team={t} onDone={() => { setEditing(false); team.reload(); }} onCancel={() => setEditing(false)} />}
      </Modal>
    </>
  );
}

function EditForm({ team, onDone, onCancel }: { team: Team; onDone: () => void; onCancel: () => void }) {
  const [name, setName] = useState(team.name);
  const [description, setDescription] = useState(team.description ?? '');
  const submit = async () => {
    await api.patchTeamsById({ path: { id: team.id }, body: { name, description: description.trim() === '' ? null : description } });
    toast('Team saved');
    onDone();
  };
  return (
    <Form onSubmit={submit} onCancel={onCancel}>
      <Field name="name" label="Name"><TextInput name="name" value={name} onValue={setName} required /></Field>
      <Field name="description" label="Description"><TextArea name="description" value={description} onValue={setDescription} rows={3} /></Field>
    </Form>
  );
}
