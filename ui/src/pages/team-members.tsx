// Members and allocations (seed 003): who is in the team, their role, their monthly allocation with
// what they spent of it this month, and what their keys' caps already commit. The team's owners and
// admins add people (an existing user, or an invitation by email), change roles and allocations,
// and remove members (their keys in the team are revoked: the confirmation says so).
import { useState } from 'preact/hooks';
import { api, type GetTeamsByIdMembersResponse } from '../api/generated.ts';
import { confirmAction } from '../components/dialog.tsx';
import { usd } from '../components/format.ts';
import { Table, type Column } from '../components/table.tsx';
import { Badge, Button, Card, Progress } from '../components/ui.tsx';
import { useApi } from '../components/use-api.ts';
import { isViewer, myUserId, readsOrg } from '../session.ts';
import { attempt, personLabel } from './team-common.tsx';
import type { Team } from './team-detail.tsx';
import { AddMemberDialog, EditMemberDialog, InviteDialog } from './team-member-dialogs.tsx';
import { TeamTransactions } from './team-transactions.tsx';
import { TeamInvitations } from './team-invitations.tsx';
import { MemberLimitsDialog } from './team-member-limits.tsx';

export type Member = GetTeamsByIdMembersResponse['data'][number];

export function TeamMembers({ team, manages }: { team: Team; manages: boolean }) {
  const members = useApi((signal) => api.getTeamsByIdMembers({ path: { id: team.id }, options: { signal } }), [team.id]);
  const [dialog, setDialog] = useState<'add' | 'invite' | Member | null>(null);
  // bumped when an invitation dialog closes, so the pending list shows the new one
  const [invited, setInvited] = useState(0);
  const [limitsOf, setLimitsOf] = useState<Member | null>(null);
  const write = manages && !isViewer.value;

  const remove = async (m: Member) => {
    const ok = await confirmAction({
      title: `Remove ${personLabel(m)} from ${team.name}?`,
      message: <p>Their keys in this team are revoked at once and their allocation ends. Their account and their keys in other teams stay.</p>,
      confirmLabel: 'Remove member',
    });
    if (ok && (await attempt(() => api.deleteTeamsByIdMembersByUserId({ path: { id: team.id, userId: m.user_id } }), `${personLabel(m)} removed`))) members.reload();
  };

  const columns: Array<Column<Member>> = [
    { label: 'Person', render: (m) => <>{m.name ?? m.email ?? m.external_id}{m.user_id === myUserId.value && <span class="muted"> (you)</span>}{m.name && m.email && <div class="muted small">{m.email}</div>}</> },
    { label: 'Role', render: (m) => <Badge tone={m.role === 'owner' ? 'info' : 'neutral'}>{m.role}</Badge> },
    {
      label: 'Allocation this month',
      render: (m) =>
        m.allocation_usd == null ? (
          <span class="muted">none · spent {usd(m.spent_this_month_usd)}</span>
        ) : (
          <div class="allocation">
            <span class="num">{usd(m.spent_this_month_usd)} of {usd(m.allocation_usd)} · {usd(Math.max(0, m.allocation_usd - m.spent_this_month_usd))} left</span>
            <Progress used={m.spent_this_month_usd} limit={m.allocation_usd} label={`${personLabel(m)}: allocation used`} />
          </div>
        ),
    },
    { label: 'Committed to keys', numeric: true, wide: true, render: (m) => usd(m.committed_usd) },
    { label: 'Self-service keys', wide: true, render: (m) => (m.key_create_self ? 'allowed' : <Badge tone="warn">not allowed</Badge>) },
    ...(write
      ? [{
          label: 'Actions',
          render: (m: Member) => (
            <div class="row-actions">
              <Button variant="ghost" class="btn-small" onClick={() => setDialog(m)} aria-label={`Edit ${personLabel(m)}`}>Edit</Button>
              <Button variant="ghost" class="btn-small" onClick={() => setLimitsOf(m)} aria-label={`Limits of ${personLabel(m)}`}>Limits</Button>
              <Button variant="ghost" class="btn-small" onClick={() => remove(m)} aria-label={`Remove ${personLabel(m)}`}>Remove</Button>
            </div>
          ),
        }]
      : []),
  ];

  const actions = write && (
    <>
      <Button onClick={() => setDialog('invite')}>Invite by email</Button>
      <Button variant="primary" onClick={() => setDialog('add')}>Add member</Button>
    </>
  );
  const close = () => setDialog(null);
  const saved = () => { setDialog(null); members.reload(); };
  const names = new Map((members.data?.data ?? []).map((m) => [m.user_id, personLabel(m)]));
  return (
    <div class="grid">
      <Card title="Members & allocations" actions={actions}>
        <p class="muted">An allocation is a member's monthly budget in this team: every key they own here draws from it.</p>
        <Table caption={`Members of ${team.name}`} columns={columns} rows={members.data?.data} rowKey={(m) => m.user_id} loading={members.loading} error={members.error} onRetry={members.reload} empty="No members yet." />
        <AddMemberDialog open={dialog === 'add'} team={team} onClose={close} onSaved={saved} />
        <InviteDialog open={dialog === 'invite'} team={team} onClose={() => { close(); setInvited((n) => n + 1); }} />
        <EditMemberDialog member={typeof dialog === 'object' ? dialog : null} team={team} onClose={close} onSaved={saved} />
        <MemberLimitsDialog member={limitsOf} team={team} write={write} onClose={() => setLimitsOf(null)} />
      </Card>
      {write && <TeamInvitations team={team} version={invited} />}
      {/* the trail is the team owners' and the organization's readers' (team.transactions.read); it reloads with the members */}
      {(manages || readsOrg.value) && <TeamTransactions team={team} names={names} version={members.data} />}
    </div>
  );
}
