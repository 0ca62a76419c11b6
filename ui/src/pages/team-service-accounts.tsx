// Service accounts (seed 002): non-login owners of keys for shared services, jobs and automations.
// Their keys count against the service account's limits, the team's and the organization's. The
// team's owners and admins create and delete them (deleting revokes their keys) and set limits.
import { useState } from 'preact/hooks';
import { api, type GetTeamsByIdServiceAccountsResponse } from '../api/generated.ts';
import { confirmAction, Modal } from '../components/dialog.tsx';
import { Field, Form, TextArea, TextInput } from '../components/form.tsx';
import { dateTime } from '../components/format.ts';
import { draftFrom, LimitsEditor, limitsBody, LimitsView } from '../components/limits.tsx';
import { Table, type Column } from '../components/table.tsx';
import { toast } from '../components/toast.tsx';
import { Button, Card, ErrorNote, Loading } from '../components/ui.tsx';
import { useApi } from '../components/use-api.ts';
import { isViewer, readsOrg } from '../session.ts';
import { attempt } from './team-common.tsx';
import type { Team } from './team-detail.tsx';

type ServiceAccount = GetTeamsByIdServiceAccountsResponse['data'][number];

export function TeamServiceAccounts({ team, manages }: { team: Team; manages: boolean }) {
  const list = useApi((signal) => api.getTeamsByIdServiceAccounts({ path: { id: team.id }, options: { signal } }), [team.id]);
  const [creating, setCreating] = useState(false);
  const [limitsOf, setLimitsOf] = useState<ServiceAccount | null>(null);
  const write = manages && !isViewer.value;
  const keysOf = (sa: ServiceAccount) => team.keys.filter((k) => k.service_account_id === sa.id && k.status !== 'revoked').length;

  const remove = async (sa: ServiceAccount) => {
    const n = keysOf(sa);
    const ok = await confirmAction({
      title: `Delete service account ${sa.name}?`,
      message: <p>Its {n} key{n === 1 ? '' : 's'} {n === 1 ? 'is' : 'are'} revoked at once: whatever uses {n === 1 ? 'it' : 'them'} stops working. This cannot be undone.</p>,
      confirmLabel: 'Delete service account',
    });
    if (ok && (await attempt(() => api.deleteTeamsByIdServiceAccountsBySaId({ path: { id: team.id, saId: sa.id } }), `Service account ${sa.name} deleted`))) list.reload();
  };

  const columns: Array<Column<ServiceAccount>> = [
    { label: 'Name', render: (sa) => <>{sa.name}{sa.description && <div class="muted small">{sa.description}</div>}</> },
    { label: 'Live keys', numeric: true, render: (sa) => <a href={`/ui/keys?team_id=${team.id}&service_account_id=${sa.id}`}>{keysOf(sa)}</a> },
    { label: 'Created', wide: true, render: (sa) => dateTime(sa.created_at) },
    {
      label: 'Actions',
      render: (sa) => (
        <div class="row-actions">
          {/* a service account's limits are read by the team's owners and the organization's readers */}
          {(manages || readsOrg.value) && <Button variant="ghost" class="btn-small" onClick={() => setLimitsOf(sa)} aria-label={`Limits of ${sa.name}`}>Limits</Button>}
          {write && <Button variant="ghost" class="btn-small" onClick={() => remove(sa)} aria-label={`Delete ${sa.name}`}>Delete</Button>}
        </div>
      ),
    },
  ];
  return (
    <Card title="Service accounts" actions={write && <Button variant="primary" onClick={() => setCreating(true)}>Create service account</Button>}>
      <p class="muted">Owners of keys that are not people: services, jobs and automations. Their keys draw on this team's budget.</p>
      <Table caption={`Service accounts of ${team.name}`} columns={columns} rows={list.data?.data} rowKey={(sa) => sa.id} loading={list.loading} error={list.error} onRetry={list.reload} empty="No service accounts yet." />
      <Modal title="Create service account" open={creating} onClose={() => setCreating(false)}>
        {creating && <CreateForm team={team} onClose={() => setCreating(false)} onCreated={() => { setCreating(false); list.reload(); }} />}
      </Modal>
      <Modal title={limitsOf ? `Limits of ${limitsOf.name}` : 'Limits'} open={limitsOf !== null} onClose={() => setLimitsOf(null)} wide>
        {limitsOf && <ServiceAccountLimits key={limitsOf.id} sa={limitsOf} write={write} onClose={() => setLimitsOf(null)} />}
      </Modal>
    </Card>
  );
}

function CreateForm({ team, onClose, onCreated }: { team: Team; onClose: () => void; onCreated: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const submit = async () => {
    const sa = await api.postTeamsByIdServiceAccounts({ path: { id: team.id }, body: { name, ...(description.trim() ? { description: description.trim() } : {}) } });
    toast(`Service account ${sa.name} created`);
    onCreated();
  };
  return (
    <Form onSubmit={submit} submitLabel="Create service account" onCancel={onClose}>
      <Field name="name" label="Name" hint="e.g. nightly-evals"><TextInput name="name" value={name} onValue={setName} required /></Field>
      <Field name="description" label="Description"><TextArea name="description" value={description} onValue={setDescription} rows={2} /></Field>
    </Form>
  );
}

function ServiceAccountLimits({ sa, write, onClose }: { sa: ServiceAccount; write: boolean; onClose: () => void }) {
  const limits = useApi((signal) => api.getServiceAccountsByIdLimits({ path: { id: sa.id }, options: { signal } }), [sa.id]);
  const [draft, setDraft] = useState<ReturnType<typeof draftFrom> | null>(null);
  if (limits.error && !limits.data) return <ErrorNote error={limits.error} onRetry={limits.reload} />;
  if (!limits.data) return <Loading />;
  if (!draft) {
    return (
      <>
        <LimitsView layer={limits.data} />
        <div class="form-actions">
          <Button onClick={onClose}>Close</Button>
          {write && <Button variant="primary" onClick={() => setDraft(draftFrom(limits.data!.policy))}>Change limits</Button>}
        </div>
      </>
    );
  }
  const submit = async () => {
    await api.putServiceAccountsByIdLimits({ path: { id: sa.id }, body: limitsBody(draft) });
    toast(`Limits of ${sa.name} saved`);
    setDraft(null);
    limits.reload();
  };
  return (
    <Form onSubmit={submit} submitLabel="Save limits" onCancel={() => setDraft(null)}>
      <LimitsEditor value={draft} onValue={setDraft} />
    </Form>
  );
}
