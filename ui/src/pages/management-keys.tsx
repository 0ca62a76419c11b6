// Management keys (/ui/management-keys): keys for automation on /api (Terraform, scripts), each
// with a role, for the whole organization or one team, and an optional expiry. Create and rotate
// show the secret once (closing the dialog forgets it); revoke asks first. Viewers read only.
import { useState } from 'preact/hooks';
import { api, type GetManagementKeysResponse } from '../api/generated.ts';
import { Modal, confirmAction } from '../components/dialog.tsx';
import { Field, Form, Select, TextInput } from '../components/form.tsx';
import { SecretOnce } from '../components/secret.tsx';
import { Table } from '../components/table.tsx';
import { Badge, Button, Card, PageHeader, StatusBadge } from '../components/ui.tsx';
import { dateTime, relative } from '../components/format.ts';
import { toast } from '../components/toast.tsx';
import { useApi } from '../components/use-api.ts';
import { canWrite, isAdmin, ownedTeamIds } from '../session.ts';
import { endOfDay, useTeams } from './keys-data.ts';

type MKey = GetManagementKeysResponse['data'][number];
const ORG_ROLES = [{ value: 'admin', label: 'Admin: everything' }, { value: 'member', label: 'Member' }, { value: 'viewer', label: 'Viewer: read only' }];
const TEAM_ROLES = [{ value: 'owner', label: 'Owner of the team' }, { value: 'member', label: 'Member of the team' }];

export default function ManagementKeysPage() {
  const [showRevoked, setShowRevoked] = useState(false);
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ name: string; value: string } | null>(null);
  const [editing, setEditing] = useState<MKey | null>(null);
  const list = useApi((signal) => api.getManagementKeys({ query: { limit: 1000, ...(showRevoked ? { include_revoked: 'true' } : {}) }, options: { signal } }), [showRevoked]);
  const { teams, name: teamName } = useTeams();
  const write = canWrite.value;

  const rotate = async (k: MKey) => {
    const ok = await confirmAction({ title: `Rotate “${k.name}”?`, message: 'A new secret replaces this one, and the old one stops working at once: update what uses it right away.', confirmLabel: 'Rotate now' });
    if (!ok) return;
    try {
      const r = await api.postManagementKeysByIdRotate({ path: { id: k.id }, body: {} });
      setSecret({ name: r.name, value: r.key ?? '' });
      list.reload();
    } catch (err) {
      toast(err instanceof Error ? err.message : String(err), 'bad');
    }
  };
  const revoke = async (k: MKey) => {
    const ok = await confirmAction({ title: `Revoke “${k.name}”?`, message: 'Requests with this key are refused from now on. This cannot be undone.', confirmLabel: 'Revoke key' });
    if (!ok) return;
    try {
      await api.deleteManagementKeysById({ path: { id: k.id } });
      toast('Management key revoked');
      list.reload();
    } catch (err) {
      toast(err instanceof Error ? err.message : String(err), 'bad');
    }
  };

  return (
    <>
      <PageHeader
        title="Management keys"
        subtitle="Keys for automation on the management API, each with a role for the organization or one team."
        actions={write && <Button variant="primary" onClick={() => setCreating(true)}>Create management key</Button>}
      />
      <Card>
        <div class="toolbar">
          <label class="checkbox"><input type="checkbox" checked={showRevoked} onChange={(e) => setShowRevoked((e.currentTarget as HTMLInputElement).checked)} /> Show revoked keys</label>
        </div>
        <Table<MKey>
          caption="Management keys"
          rows={list.data?.data}
          loading={list.loading}
          error={list.error}
          onRetry={list.reload}
          rowKey={(k) => k.id}
          empty="No management keys yet"
          columns={[
            { label: 'Name', render: (k) => <>{k.name}{k.legacy && <> <Badge tone="info">legacy</Badge></>}</> },
            { label: 'Prefix', render: (k) => <span class="mono small">{k.key_prefix}</span>, wide: true },
            { label: 'Role', render: (k) => k.role },
            { label: 'Scope', render: (k) => (k.team_id === null ? 'Organization' : teamName(k.team_id)) },
            { label: 'Status', render: (k) => <StatusBadge status={k.status} /> },
            { label: 'Last used', render: (k) => (k.last_used_at ? relative(k.last_used_at) : <span class="muted">never</span>), wide: true },
            { label: 'Expires', render: (k) => (k.expires_at ? dateTime(k.expires_at) : <span class="muted">never</span>), wide: true },
            ...(write ? [{ label: 'Actions', render: (k: MKey) => (k.status === 'revoked' ? null : (
              <div class="actions">
                <Button class="btn-small" variant="ghost" onClick={() => setEditing(k)} aria-label={`Edit ${k.name}`}>Edit</Button>
                <Button class="btn-small" onClick={() => rotate(k)} aria-label={`Rotate ${k.name}`}>Rotate</Button>
                <Button class="btn-small" variant="danger" onClick={() => revoke(k)} aria-label={`Revoke ${k.name}`}>Revoke</Button>
              </div>
            )) }] : []),
          ]}
        />
      </Card>
      <CreateDialog open={creating} teams={teams} onClose={() => setCreating(false)} onCreated={(s) => { setCreating(false); setSecret(s); list.reload(); }} />
      <Modal title={editing ? `Edit “${editing.name}”` : 'Edit'} open={editing !== null} onClose={() => setEditing(null)}>
        {editing && <EditForm key={editing.id} mkey={editing} onClose={() => setEditing(null)} onSaved={() => { setEditing(null); list.reload(); }} />}
      </Modal>
      <Modal title={secret ? `Secret of “${secret.name}”` : ''} open={secret !== null} onClose={() => setSecret(null)}>
        {secret && <SecretOnce value={secret.value} label="Management key" />}
        <div class="form-actions"><Button variant="primary" onClick={() => setSecret(null)}>Done</Button></div>
      </Modal>
    </>
  );
}

/** Name, description and expiry; the role and scope of a key are fixed at creation (make a new one). */
function EditForm({ mkey, onClose, onSaved }: { mkey: MKey; onClose: () => void; onSaved: () => void }) {
  const [name, setName] = useState(mkey.name);
  const [description, setDescription] = useState(mkey.description ?? '');
  const [expires, setExpires] = useState(mkey.expires_at ? mkey.expires_at.slice(0, 10) : '');
  const submit = async () => {
    await api.patchManagementKeysById({ path: { id: mkey.id }, body: { name: name.trim(), description: description.trim() || null, expires_at: endOfDay(expires) } });
    toast('Management key saved');
    onSaved();
  };
  return (
    <Form onSubmit={submit} onCancel={onClose}>
      <Field name="name" label="Name"><TextInput name="name" value={name} onValue={setName} /></Field>
      <Field name="description" label="Description"><TextInput name="description" value={description} onValue={setDescription} /></Field>
      <Field name="expires_at" label="Expires on" hint="Empty: never expires."><TextInput name="expires_at" type="date" value={expires} onValue={setExpires} /></Field>
    </Form>
  );
}

function CreateDialog({ open, teams, onClose, onCreated }: { open: boolean; teams: Array<{ id: number; name: string }>; onClose: () => void; onCreated: (s: { name: string; value: string }) => void }) {
  const [name, setName] = useState('');
  // Admins scope a key to the organization or any team; a team owner to a team they own.
  const orgWide = isAdmin.value;
  const scopes = orgWide ? teams : teams.filter((t) => ownedTeamIds.value.has(t.id));
  const [team, setTeam] = useState(orgWide ? '' : String(scopes[0]?.id ?? ''));
  const [role, setRole] = useState(orgWide ? 'admin' : 'owner');
  const [expires, setExpires] = useState('');
  const roles = team ? TEAM_ROLES : ORG_ROLES;
  const submit = async () => {
    const r = await api.postManagementKeys({ body: { name: name.trim(), role: role as 'admin', team_id: team ? Number(team) : null, expires_at: endOfDay(expires) } });
    setName('');
    setExpires('');
    toast('Management key created');
    onCreated({ name: r.name, value: r.key ?? '' });
  };
  return (
    <Modal title="Create a management key" open={open} onClose={onClose}>
      <Form onSubmit={submit} submitLabel="Create" onCancel={onClose}>
        <Field name="name" label="Name"><TextInput name="name" value={name} onValue={setName} placeholder="terraform" /></Field>
        <Field name="team_id" label="Scope">
          <Select name="team_id" value={team} onValue={(v) => { setTeam(v); setRole(v ? 'owner' : 'admin'); }} options={[...(orgWide ? [{ value: '', label: 'The whole organization' }] : []), ...scopes.map((t) => ({ value: String(t.id), label: `Team: ${t.name}` }))]} />
        </Field>
        <Field name="role" label="Role"><Select name="role" value={role} onValue={setRole} options={roles} /></Field>
        <Field name="expires_at" label="Expires on" hint="Empty: never expires."><TextInput name="expires_at" type="date" value={expires} onValue={setExpires} /></Field>
      </Form>
    </Modal>
  );
}
