// The member dialogs of a team page: add an existing person (found by a server-side search of
// GET /api/users), change a member's role / allocation / self-service right, and invite someone
// by email into the team (the link is shown once: only its hash is stored).
import { useState } from 'preact/hooks';
import { api } from '../api/generated.ts';
import { ApiFailure } from '../api/transport.ts';
import { Modal } from '../components/dialog.tsx';
import { Checkbox, Field, Form, numberOrUndefined, Select, TextInput } from '../components/form.tsx';
import { SecretOnce } from '../components/secret.tsx';
import { toast } from '../components/toast.tsx';
import { Button } from '../components/ui.tsx';
import { useApi, useDebounced } from '../components/use-api.ts';
import { personLabel } from './team-common.tsx';
import type { Team } from './team-detail.tsx';
import type { Member } from './team-members.tsx';

type TeamRole = 'member' | 'owner';
const ROLES: Array<{ value: TeamRole; label: string }> = [
  { value: 'member', label: 'Member: creates keys within their allocation' },
  { value: 'owner', label: 'Owner: manages the team, its members and allocations' },
];

/** allocation_usd of a PUT: '' = none (null) */
const allocation = (v: string): number | null => numberOrUndefined(v) ?? null;

export function AddMemberDialog({ open, team, onClose, onSaved }: { open: boolean; team: Team; onClose: () => void; onSaved: () => void }) {
  return <Modal title={`Add a member to ${team.name}`} open={open} onClose={onClose}>{open && <AddForm team={team} onClose={onClose} onSaved={onSaved} />}</Modal>;
}

function AddForm({ team, onClose, onSaved }: { team: Team; onClose: () => void; onSaved: () => void }) {
  const [search, setSearch] = useState('');
  const q = useDebounced(search.trim(), 200);
  const people = useApi((signal) => api.getUsers({ query: { limit: 20, status: 'active', ...(q ? { q } : {}) }, options: { signal } }), [q]);
  const [userId, setUserId] = useState('');
  const [role, setRole] = useState<TeamRole>('member');
  const [alloc, setAlloc] = useState('');
  const options = people.data?.data.map((u) => ({ value: String(u.id), label: personLabel(u) })) ?? [];
  // Never a silent pick among several: one match is chosen, otherwise the person picks.
  const chosen = userId && options.some((o) => o.value === userId) ? userId : options.length === 1 ? options[0]!.value : '';
  const submit = async () => {
    if (!chosen) throw new ApiFailure(400, 'invalid_request', 'Choose the person to add.', 'user_id');
    await api.putTeamsByIdMembersByUserId({ path: { id: team.id, userId: Number(chosen) }, body: { role, allocation_usd: allocation(alloc) } });
    toast(`${options.find((o) => o.value === chosen)?.label ?? 'Member'} added`);
    onSaved();
  };
  return (
    <Form onSubmit={submit} submitLabel="Add member" onCancel={onClose}>
      <Field name="search" label="Find a person" hint="name, email or external id">
        <TextInput name="search" type="search" value={search} onValue={setSearch} />
      </Field>
      <Field name="user_id" label="Person" hint={people.loading ? 'Searching…' : options.length === 0 ? 'Nobody matches: invite them by email instead.' : undefined}>
        <Select name="user_id" value={chosen} onValue={setUserId} options={[{ value: '', label: options.length ? 'Choose a person…' : '—' }, ...options]} />
      </Field>
      <Field name="role" label="Role in the team"><Select name="role" value={role} onValue={setRole} options={ROLES} /></Field>
      <Field name="allocation_usd" label="Monthly allocation (USD)" hint="empty: no allocation of their own">
        <TextInput name="allocation_usd" type="number" min={0} step="0.01" value={alloc} onValue={setAlloc} />
      </Field>
    </Form>
  );
}

export function EditMemberDialog({ member, team, onClose, onSaved }: { member: Member | null; team: Team; onClose: () => void; onSaved: () => void }) {
  return <Modal title={member ? `Edit ${personLabel(member)}` : 'Edit member'} open={member !== null} onClose={onClose}>{member && <EditForm key={member.user_id} member={member} team={team} onClose={onClose} onSaved={onSaved} />}</Modal>;
}

function EditForm({ member, team, onClose, onSaved }: { member: Member; team: Team; onClose: () => void; onSaved: () => void }) {
  const [role, setRole] = useState<TeamRole>(member.role === 'owner' ? 'owner' : 'member');
  const [alloc, setAlloc] = useState(member.allocation_usd == null ? '' : String(member.allocation_usd));
  const [selfKeys, setSelfKeys] = useState(member.key_create_self);
  const submit = async () => {
    await api.putTeamsByIdMembersByUserId({ path: { id: team.id, userId: member.user_id }, body: { role, allocation_usd: allocation(alloc), key_create_self: selfKeys } });
    toast(`${personLabel(member)} saved`);
    onSaved();
  };
  return (
    <Form onSubmit={submit} onCancel={onClose}>
      <Field name="role" label="Role in the team"><Select name="role" value={role} onValue={setRole} options={ROLES} /></Field>
      <Field name="allocation_usd" label="Monthly allocation (USD)" hint={`spent this month: $${member.spent_this_month_usd.toFixed(2)}; committed to key caps: $${member.committed_usd.toFixed(2)}; empty: none`}>
        <TextInput name="allocation_usd" type="number" min={0} step="0.01" value={alloc} onValue={setAlloc} />
      </Field>
      <Checkbox name="key_create_self" checked={selfKeys} onValue={setSelfKeys} label="May create their own keys (within the team's self-service policy)" />
    </Form>
  );
}

export function InviteDialog({ open, team, onClose }: { open: boolean; team: Team; onClose: () => void }) {
  return <Modal title={`Invite someone to ${team.name}`} open={open} onClose={onClose}>{open && <InviteForm team={team} onClose={onClose} />}</Modal>;
}

function InviteForm({ team, onClose }: { team: Team; onClose: () => void }) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<TeamRole>('member');
  const [link, setLink] = useState<string | null>(null);
  if (link) {
    return (
      <div>
        <p>Send this link to {email}. Whoever opens it sets a password and joins {team.name} as {role}.</p>
        <SecretOnce value={link} label="Invitation link" />
        <div class="form-actions"><Button variant="primary" onClick={onClose}>Done</Button></div>
      </div>
    );
  }
  const submit = async () => {
    const inv = await api.postInvitations({ body: { email: email.trim(), team_id: team.id, team_role: role } });
    // The token is in the first answer only (a replay of the same create leaves it out).
    if (!inv.token) throw new Error('The invitation was created, but its link was already shown once; revoke it and invite again.');
    setLink(`${location.origin}/ui/invitations/${inv.token}`);
  };
  return (
    <Form onSubmit={submit} submitLabel="Create invitation" onCancel={onClose}>
      <Field name="email" label="Email"><TextInput name="email" type="email" value={email} onValue={setEmail} autoComplete="off" required /></Field>
      <Field name="team_role" label="Role in the team"><Select name="team_role" value={role} onValue={setRole} options={ROLES} /></Field>
    </Form>
  );
}
