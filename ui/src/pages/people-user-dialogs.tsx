// Creating a user (external id, email, name, role, optionally into a team) and changing one (role,
// name, email). A user made here has no password: they sign in through single sign-on, or an admin
// invites them (Invitations) to set one.
import { useState } from 'preact/hooks';
import { api } from '../api/generated.ts';
import { Modal } from '../components/dialog.tsx';
import { Field, Form, Select, TextInput } from '../components/form.tsx';
import { toast } from '../components/toast.tsx';
import { personLabel } from './team-common.tsx';
import type { TeamNames, User } from './people-users.tsx';

type Role = 'member' | 'admin' | 'viewer';
export const ORG_ROLES: Array<{ value: Role; label: string }> = [
  { value: 'member', label: 'Member: their own keys and teams' },
  { value: 'viewer', label: 'Viewer: reads everything, changes nothing' },
  { value: 'admin', label: 'Admin: manages the whole organization' },
];
type TeamRole = 'member' | 'owner';
export const TEAM_ROLES: Array<{ value: TeamRole; label: string }> = [
  { value: 'member', label: 'Member' },
  { value: 'owner', label: 'Owner' },
];

const orNull = (v: string) => (v.trim() === '' ? null : v.trim());

export function CreateUserDialog({ open, teams, onClose, onSaved }: { open: boolean; teams: TeamNames; onClose: () => void; onSaved: () => void }) {
  return <Modal title="Create user" open={open} onClose={onClose}>{open && <CreateForm teams={teams} onClose={onClose} onSaved={onSaved} />}</Modal>;
}

function CreateForm({ teams, onClose, onSaved }: { teams: TeamNames; onClose: () => void; onSaved: () => void }) {
  const [externalId, setExternalId] = useState('');
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [teamId, setTeamId] = useState('');
  const [teamRole, setTeamRole] = useState<TeamRole>('member');
  const submit = async () => {
    const user = await api.postUsers({
      body: { external_id: externalId.trim() || email.trim(), email: orNull(email), name: orNull(name), role, ...(teamId ? { team_id: Number(teamId), team_role: teamRole } : {}) },
    });
    toast(`${personLabel(user)} created`);
    onSaved();
  };
  return (
    <Form onSubmit={submit} submitLabel="Create user" onCancel={onClose}>
      <div class="form-grid">
        <Field name="email" label="Email"><TextInput name="email" type="email" value={email} onValue={setEmail} autoComplete="off" /></Field>
        <Field name="name" label="Name"><TextInput name="name" value={name} onValue={setName} autoComplete="off" /></Field>
      </div>
      <Field name="external_id" label="External id" hint="the id your identity provider knows them by; empty: their email">
        <TextInput name="external_id" value={externalId} onValue={setExternalId} />
      </Field>
      <Field name="role" label="Role"><Select name="role" value={role} onValue={setRole} options={ORG_ROLES} /></Field>
      <div class="form-grid">
        <Field name="team_id" label="Team (optional)">
          <Select name="team_id" value={teamId} onValue={setTeamId} options={[{ value: '', label: 'No team' }, ...teams.teams.map((t) => ({ value: String(t.id), label: t.name }))]} />
        </Field>
        {teamId && <Field name="team_role" label="Role in the team"><Select name="team_role" value={teamRole} onValue={setTeamRole} options={TEAM_ROLES} /></Field>}
      </div>
    </Form>
  );
}

export function EditUserDialog({ user, onClose, onSaved }: { user: User | null; onClose: () => void; onSaved: () => void }) {
  return <Modal title={user ? `Edit ${personLabel(user)}` : 'Edit user'} open={user !== null} onClose={onClose}>{user && <EditForm key={user.id} user={user} onClose={onClose} onSaved={onSaved} />}</Modal>;
}

function EditForm({ user, onClose, onSaved }: { user: User; onClose: () => void; onSaved: () => void }) {
  const [email, setEmail] = useState(user.email ?? '');
  const [name, setName] = useState(user.name ?? '');
  const [role, setRole] = useState<Role>((['member', 'admin', 'viewer'] as const).find((r) => r === user.role) ?? 'member');
  const submit = async () => {
    await api.patchUsersById({ path: { id: user.id }, body: { email: orNull(email), name: orNull(name), role } });
    toast(`${personLabel({ ...user, name: orNull(name), email: orNull(email) })} saved`);
    onSaved();
  };
  return (
    <Form onSubmit={submit} onCancel={onClose}>
      <Field name="email" label="Email"><TextInput name="email" type="email" value={email} onValue={setEmail} autoComplete="off" /></Field>
      <Field name="name" label="Name"><TextInput name="name" value={name} onValue={setName} autoComplete="off" /></Field>
      <Field name="role" label="Role"><Select name="role" value={role} onValue={setRole} options={ORG_ROLES} /></Field>
    </Form>
  );
}
