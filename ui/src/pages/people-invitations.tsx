// Invitations: who was invited, into which role and team, and where each stands (pending,
// accepted, revoked, expired). Admins invite (the link is shown once: only its hash is stored) and
// revoke a pending invitation after confirming. Team owners invite from their team's page.
import { useState } from 'preact/hooks';
import { api, type GetInvitationsResponse } from '../api/generated.ts';
import { confirmAction, Modal } from '../components/dialog.tsx';
import { Field, Form, Select, TextInput } from '../components/form.tsx';
import { dateTime, relative } from '../components/format.ts';
import { Pager, Table, type Column } from '../components/table.tsx';
import { SecretOnce } from '../components/secret.tsx';
import { Button, Card, StatusBadge } from '../components/ui.tsx';
import { useApi } from '../components/use-api.ts';
import { isAdmin } from '../session.ts';
import { attempt } from './team-common.tsx';
import { ORG_ROLES, TEAM_ROLES } from './people-user-dialogs.tsx';
import type { TeamNames } from './people-users.tsx';

type Invitation = GetInvitationsResponse['data'][number];
const PAGE = 50;

export function PeopleInvitations({ teams }: { teams: TeamNames }) {
  const [offset, setOffset] = useState(0);
  const list = useApi((signal) => api.getInvitations({ query: { limit: PAGE, offset }, options: { signal } }), [offset]);
  const [creating, setCreating] = useState(false);
  const admin = isAdmin.value;
  const who = (i: Invitation) => i.email ?? i.external_id ?? `invitation #${i.id}`;

  const revoke = async (i: Invitation) => {
    const ok = await confirmAction({ title: `Revoke the invitation of ${who(i)}?`, message: <p>The link stops working at once. You can invite them again later.</p>, confirmLabel: 'Revoke invitation' });
    if (ok && (await attempt(() => api.deleteInvitationsById({ path: { id: i.id } }), `Invitation of ${who(i)} revoked`))) list.reload();
  };

  const columns: Array<Column<Invitation>> = [
    { label: 'Invited', render: (i) => who(i) },
    { label: 'Role', render: (i) => i.role },
    { label: 'Team', wide: true, render: (i) => (i.team_id == null ? <span class="muted">—</span> : <><a href={`/ui/teams/${i.team_id}`}>{teams.name(i.team_id)}</a> <span class="muted">({i.team_role})</span></>) },
    { label: 'Status', render: (i) => <StatusBadge status={i.status} /> },
    { label: 'Expires', wide: true, render: (i) => (i.status === 'pending' ? relative(i.expires_at) : <span class="muted">{i.accepted_at ? `accepted ${dateTime(i.accepted_at)}` : '—'}</span>) },
    ...(admin ? [{ label: 'Actions', render: (i: Invitation) => i.status === 'pending' && <Button variant="ghost" class="btn-small" onClick={() => revoke(i)} aria-label={`Revoke the invitation of ${who(i)}`}>Revoke</Button> }] : []),
  ];
  return (
    <Card title="Invitations" actions={admin && <Button variant="primary" onClick={() => setCreating(true)}>Invite someone</Button>}>
      <Table caption="Invitations" columns={columns} rows={list.data?.data} rowKey={(i) => i.id} loading={list.loading} error={list.error} onRetry={list.reload} empty="Nobody has been invited yet." />
      <Pager page={offset / PAGE + 1} hasNext={(list.data?.data.length ?? 0) === PAGE} loading={list.loading} onNext={() => setOffset(offset + PAGE)} onPrev={() => setOffset(Math.max(0, offset - PAGE))} />
      <Modal title="Invite someone" open={creating} onClose={() => { setCreating(false); list.reload(); }}>
        {creating && <InviteForm teams={teams} onClose={() => { setCreating(false); list.reload(); }} />}
      </Modal>
    </Card>
  );
}

type Role = (typeof ORG_ROLES)[number]['value'];
type TeamRole = (typeof TEAM_ROLES)[number]['value'];

function InviteForm({ teams, onClose }: { teams: TeamNames; onClose: () => void }) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [teamId, setTeamId] = useState('');
  const [teamRole, setTeamRole] = useState<TeamRole>('member');
  const [link, setLink] = useState<string | null>(null);
  if (link) {
    return (
      <div>
        <p>Send this link to {email}. Whoever opens it sets a password and is signed in.</p>
        <SecretOnce value={link} label="Invitation link" />
        <div class="form-actions"><Button variant="primary" onClick={onClose}>Done</Button></div>
      </div>
    );
  }
  const submit = async () => {
    const inv = await api.postInvitations({ body: { email: email.trim(), role, ...(teamId ? { team_id: Number(teamId), team_role: teamRole } : {}) } });
    // The token is in the first answer only (a replay of the same create leaves it out).
    if (!inv.token) throw new Error('The invitation was created, but its link was already shown once; revoke it and invite again.');
    setLink(`${location.origin}/ui/invitations/${inv.token}`);
  };
  return (
    <Form onSubmit={submit} submitLabel="Create invitation" onCancel={onClose}>
      <Field name="email" label="Email"><TextInput name="email" type="email" value={email} onValue={setEmail} autoComplete="off" required /></Field>
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
