// Provisioned keys (/ui/provisioned-keys, seed 003): keys a member creates straight at a provider
// (OpenRouter) with a hard credit limit paid out of their allocation, and uses there directly.
// Tollgate keeps the provider's id and the last four characters; the secret is shown once.
// A member sees and manages their own; team owners and admins also see (and revoke) their teams';
// viewers read.
import { useState } from 'preact/hooks';
import { api, type GetMeProvisionedKeysResponse } from '../api/generated.ts';
import { Badge, Button, Card, Empty, PageHeader, StatusBadge } from '../components/ui.tsx';
import { Table, type Column } from '../components/table.tsx';
import { confirmAction } from '../components/dialog.tsx';
import { toast } from '../components/toast.tsx';
import { useApi } from '../components/use-api.ts';
import { dateTime, day, usd } from '../components/format.ts';
import { isAdmin, myTeams, myUserId, ownedTeamIds, readsOrg } from '../session.ts';
import { LimitDialog, ProvisionDialog } from './provisioned-key-dialogs.tsx';

export type ProvisionedKey = GetMeProvisionedKeysResponse['data'][number];

const live = (k: ProvisionedKey) => k.status === 'active' || k.status === 'disabled';

export default function ProvisionedKeysPage() {
  const [version, setVersion] = useState(0);
  const refresh = () => setVersion((v) => v + 1);
  const person = myUserId.value !== null;
  const oversees = readsOrg.value || ownedTeamIds.value.size > 0;
  const [creating, setCreating] = useState(false);
  const teams = myTeams.value.filter((t) => t.allocation);
  return (
    <>
      <PageHeader
        title="Provisioned keys"
        subtitle="Keys created at the provider itself (OpenRouter), each with a hard credit limit taken from your allocation. You use them at the provider directly; revoking one deletes it there."
        actions={person && teams.length > 0 && <Button variant="primary" onClick={() => setCreating(true)}>Provision a key</Button>}
      />
      {person && <MyKeys version={version} onChanged={refresh} />}
      {oversees && <TeamKeys version={version} onChanged={refresh} />}
      {!person && !oversees && <Card><Empty title="Provisioned keys belong to people: sign in as one to see yours." /></Card>}
      {person && <ProvisionDialog open={creating} onClose={() => setCreating(false)} onCreated={refresh} />}
    </>
  );
}

async function revoke(k: ProvisionedKey, mine: boolean, done: () => void) {
  const ok = await confirmAction({
    title: `Revoke ${k.name}?`,
    message: <p>It is deleted at {k.provider === 'openrouter-provisioning' ? 'OpenRouter' : k.provider}: anything using it stops working, and its {usd(k.limit_usd)} limit goes back to the allocation.</p>,
    confirmLabel: 'Revoke key',
  });
  if (!ok) return;
  try {
    const after = mine ? await api.deleteMeProvisionedKeysById({ path: { id: k.id } }) : await api.deleteProvisionedKeysById({ path: { id: k.id } });
    toast(after.status === 'deleted' ? `${k.name} revoked and deleted at the provider` : `${k.name} revoked; its deletion at the provider is retried every minute`);
    done();
  } catch (err) {
    toast(err instanceof Error ? err.message : String(err), 'bad');
  }
}

const teamName = (id: number) => myTeams.value.find((t) => t.id === id)?.name ?? `team ${id}`;

function baseColumns(): Array<Column<ProvisionedKey>> {
  return [
    { label: 'Name', render: (k) => <><strong>{k.name}</strong><span class="ops-sub mono" aria-label={`secret ending ${k.key_hint}`}>…{k.key_hint}</span></> },
    { label: 'Team', wide: true, render: (k) => teamName(k.team_id) },
    { label: 'Limit', numeric: true, render: (k) => usd(k.limit_usd) },
    { label: 'Expires', wide: true, render: (k) => (k.expires_at ? <span title={dateTime(k.expires_at)}>{day(k.expires_at)}</span> : <Badge>never</Badge>) },
    { label: 'Status', render: (k) => <StatusBadge status={k.status} /> },
  ];
}

function MyKeys({ version, onChanged }: { version: number; onChanged: () => void }) {
  const { data, error, loading, reload } = useApi((signal) => api.getMeProvisionedKeys({ options: { signal } }), [version]);
  const [changing, setChanging] = useState<ProvisionedKey | undefined>();
  const columns = [...baseColumns(), {
    label: 'Actions',
    render: (k: ProvisionedKey) => live(k) && (
      <span class="ops-actions">
        <Button class="btn-small" onClick={() => setChanging(k)} aria-label={`Change ${k.name}`}>Change</Button>
        <Button class="btn-small" variant="danger" onClick={() => revoke(k, true, onChanged)} aria-label={`Revoke ${k.name}`}>Revoke</Button>
      </span>
    ),
  }];
  const teams = myTeams.value.filter((t) => t.allocation);
  return (
    <Card title="My provisioned keys">
      {teams.length > 0 && (
        <p class="muted">{teams.map((t) => `${t.name}: ${usd(t.allocation!.uncommitted_usd)} of ${usd(t.allocation!.budget_usd)} left to commit`).join(' · ')}</p>
      )}
      <Table columns={columns} rows={data?.data} rowKey={(k) => k.id} loading={loading} error={error} onRetry={reload} empty="You have no provisioned keys." caption="My provisioned keys" />
      <LimitDialog provisioned={changing} onClose={() => setChanging(undefined)} onSaved={onChanged} />
    </Card>
  );
}

function TeamKeys({ version, onChanged }: { version: number; onChanged: () => void }) {
  const { data, error, loading, reload } = useApi((signal) => api.getProvisionedKeys({ options: { signal } }), [version]);
  const me = myUserId.value;
  const columns: Array<Column<ProvisionedKey>> = [...baseColumns(), { label: 'Owner', wide: true, render: (k) => (k.user_id === me ? 'me' : `user ${k.user_id}`) }];
  const canRevoke = (k: ProvisionedKey) => isAdmin.value || ownedTeamIds.value.has(k.team_id);
  if (isAdmin.value || ownedTeamIds.value.size > 0) {
    columns.push({
      label: 'Actions',
      render: (k) => live(k) && canRevoke(k) && <Button class="btn-small" variant="danger" onClick={() => revoke(k, false, onChanged)} aria-label={`Revoke ${k.name} of user ${k.user_id}`}>Revoke</Button>,
    });
  }
  return (
    <Card title={isAdmin.value || readsOrg.value ? 'All provisioned keys' : "My teams' provisioned keys"}>
      <Table columns={columns} rows={data?.data} rowKey={(k) => k.id} loading={loading} error={error} onRetry={reload} empty="No provisioned keys." caption="Team provisioned keys" />
    </Card>
  );
}
