// The team's pending invitations, for whoever may invite into it (its owners, admins): who was
// invited, as what, until when; revoking one (after confirming) stops its link at once.
import { api } from '../api/generated.ts';
import { confirmAction } from '../components/dialog.tsx';
import { relative } from '../components/format.ts';
import { Table } from '../components/table.tsx';
import { Button, Card } from '../components/ui.tsx';
import { useApi } from '../components/use-api.ts';
import { attempt } from './team-common.tsx';
import type { Team } from './team-detail.tsx';

export function TeamInvitations({ team, version }: { team: Team; version: unknown }) {
  // GET /api/invitations answers an owner with the invitations into their teams; this team's are kept.
  const list = useApi((signal) => api.getInvitations({ query: { limit: 1000 }, options: { signal } }), [version]);
  const pending = list.data?.data.filter((i) => i.team_id === team.id && i.status === 'pending');
  if (pending && pending.length === 0) return null;
  const revoke = async (id: number, who: string) => {
    if (!(await confirmAction({ title: `Revoke the invitation of ${who}?`, message: <p>The link stops working at once. You can invite them again later.</p>, confirmLabel: 'Revoke invitation' }))) return;
    if (await attempt(() => api.deleteInvitationsById({ path: { id } }), `Invitation of ${who} revoked`)) list.reload();
  };
  return (
    <Card title="Pending invitations">
      <Table
        caption={`Pending invitations to ${team.name}`}
        rows={pending}
        rowKey={(i) => i.id}
        loading={list.loading}
        error={list.error}
        onRetry={list.reload}
        empty="No pending invitations."
        columns={[
          { label: 'Invited', render: (i) => i.email ?? i.external_id ?? `#${i.id}` },
          { label: 'Role in the team', render: (i) => i.team_role ?? 'member' },
          { label: 'Expires', render: (i) => relative(i.expires_at) },
          { label: 'Actions', render: (i) => <Button variant="ghost" class="btn-small" onClick={() => revoke(i.id, i.email ?? i.external_id ?? `#${i.id}`)} aria-label={`Revoke the invitation of ${i.email ?? i.external_id ?? i.id}`}>Revoke</Button> },
        ]}
      />
    </Card>
  );
}
