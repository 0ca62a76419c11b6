// The users of the organization: searched and filtered by the server (GET /api/users: q over
// external id, email and name; role, status, team), paged by its cursor (next_after). Admins create
// users, change them (role, name, email), deactivate (after confirming: their sessions end and their
// keys are disabled) and reactivate.
import { useState } from 'preact/hooks';
import { api, type GetUsersQuery, type GetUsersResponse } from '../api/generated.ts';
import { confirmAction } from '../components/dialog.tsx';
import { relative } from '../components/format.ts';
import { Pager, Table, useCursor, type Column } from '../components/table.tsx';
import { Badge, Button, Card, Empty, StatusBadge } from '../components/ui.tsx';
import { useApi, useDebounced } from '../components/use-api.ts';
import { isAdmin, myUserId } from '../session.ts';
import { attempt, personLabel } from './team-common.tsx';
import { CreateUserDialog, EditUserDialog } from './people-user-dialogs.tsx';
import type { useTeamNames } from './people.tsx';

export type User = GetUsersResponse['data'][number];
export type TeamNames = ReturnType<typeof useTeamNames>;
const PAGE = 50;

export function PeopleUsers({ teams }: { teams: TeamNames }) {
  const [search, setSearch] = useState('');
  const [role, setRole] = useState('');
  const [status, setStatus] = useState('');
  const [teamId, setTeamId] = useState('');
  const q = useDebounced(search.trim(), 200);
  const cursor = useCursor();
  const [dialog, setDialog] = useState<'create' | User | null>(null);
  const query: GetUsersQuery = {
    limit: PAGE,
    ...(q ? { q } : {}),
    ...(role ? { role: role as GetUsersQuery['role'] } : {}),
    ...(status ? { status: status as GetUsersQuery['status'] } : {}),
    ...(teamId ? { team_id: Number(teamId) } : {}),
    ...(cursor.cursor ? { after: Number(cursor.cursor) } : {}),
  };
  const users = useApi((signal) => api.getUsers({ query, options: { signal } }), [JSON.stringify(query)]);
  // A filter changed: back to the first page.
  const filter = (set: (v: string) => void) => (e: Event) => { set((e.currentTarget as HTMLInputElement).value); cursor.reset(); };
  const admin = isAdmin.value;

  const deactivate = async (u: User) => {
    const ok = await confirmAction({
      title: `Deactivate ${personLabel(u)}?`,
      message: <p>They are signed out everywhere at once (their sessions end), their keys are disabled, and they cannot sign in again until reactivated. Their history stays.</p>,
      confirmLabel: 'Deactivate',
    });
    if (ok && (await attempt(() => api.postUsersByIdDeactivate({ path: { id: u.id }, body: {} }), `${personLabel(u)} deactivated`))) users.reload();
  };
  const reactivate = async (u: User) => {
    if (await attempt(() => api.postUsersByIdReactivate({ path: { id: u.id }, body: {} }), `${personLabel(u)} reactivated (their keys stay disabled until enabled)`)) users.reload();
  };

  const columns: Array<Column<User>> = [
    { label: 'Person', render: (u) => <>{u.name ?? u.email ?? u.external_id}{u.id === myUserId.value && <span class="muted"> (you)</span>}{u.name && u.email && <div class="muted small">{u.email}</div>}</> },
    { label: 'External id', wide: true, render: (u) => <span class="mono">{u.external_id}</span> },
    { label: 'Role', render: (u) => <Badge tone={u.role === 'admin' ? 'info' : 'neutral'}>{u.role}</Badge> },
    { label: 'Status', render: (u) => <StatusBadge status={u.status} /> },
    { label: 'Last sign-in', wide: true, render: (u) => (u.last_login_at ? relative(u.last_login_at) : <span class="muted">{u.password_set ? 'never' : 'no password yet'}</span>) },
    ...(admin
      ? [{
          label: 'Actions',
          render: (u: User) => (
            <div class="row-actions">
              <Button variant="ghost" class="btn-small" onClick={() => setDialog(u)} aria-label={`Edit ${personLabel(u)}`}>Edit</Button>
              {u.id !== myUserId.value && (u.status === 'active'
                ? <Button variant="ghost" class="btn-small" onClick={() => deactivate(u)} aria-label={`Deactivate ${personLabel(u)}`}>Deactivate</Button>
                : <Button variant="ghost" class="btn-small" onClick={() => reactivate(u)} aria-label={`Reactivate ${personLabel(u)}`}>Reactivate</Button>)}
            </div>
          ),
        }]
      : []),
  ];

  const filtered = !!(q || role || status || teamId);
  return (
    <Card title="Users" actions={admin && <Button variant="primary" onClick={() => setDialog('create')}>Create user</Button>}>
      <div class="toolbar" role="search" aria-label="Filter users">
        <div class="field">
          <label for="users-q">Search users</label>
          <input id="users-q" type="search" value={search} placeholder="Name, email or external id" onInput={filter(setSearch)} />
        </div>
        <div class="field">
          <label for="users-role">Role</label>
          <select id="users-role" value={role} onChange={filter(setRole)}>
            <option value="">Any role</option><option value="admin">Admin</option><option value="member">Member</option><option value="viewer">Viewer</option>
          </select>
        </div>
        <div class="field">
          <label for="users-status">Status</label>
          <select id="users-status" value={status} onChange={filter(setStatus)}>
            <option value="">Any status</option><option value="active">Active</option><option value="deactivated">Deactivated</option>
          </select>
        </div>
        <div class="field">
          <label for="users-team">Team</label>
          <select id="users-team" value={teamId} onChange={filter(setTeamId)}>
            <option value="">Any team</option>
            {teams.teams.map((t) => <option key={t.id} value={String(t.id)}>{t.name}</option>)}
          </select>
        </div>
      </div>
      <Table
        caption="Users"
        columns={columns}
        rows={users.data?.data}
        rowKey={(u) => u.id}
        loading={users.loading}
        error={users.error}
        onRetry={users.reload}
        empty={filtered ? <Empty title="Nobody matches these filters" /> : <Empty title="No users yet" />}
      />
      <Pager page={cursor.page} hasNext={users.data?.next_after != null} loading={users.loading} onNext={() => users.data?.next_after != null && cursor.next(String(users.data.next_after))} onPrev={cursor.prev} />
      <CreateUserDialog open={dialog === 'create'} teams={teams} onClose={() => setDialog(null)} onSaved={() => { setDialog(null); users.reload(); }} />
      <EditUserDialog user={typeof dialog === 'object' ? dialog : null} onClose={() => setDialog(null)} onSaved={() => { setDialog(null); users.reload(); }} />
    </Card>
  );
}
