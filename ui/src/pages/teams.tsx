// Teams (/ui/teams): every team for admins and viewers, one's own teams for anyone else (the API
// narrows GET /api/teams). Each row: members, active keys, spend this month, and the team budget's
// progress in its period. Search is the server's (q: name or slug); admins create and delete.
import { useState } from 'preact/hooks';
import { api, type GetTeamsResponse } from '../api/generated.ts';
import { confirmAction } from '../components/dialog.tsx';
import { int, usd } from '../components/format.ts';
import { Pager, Table, type Column } from '../components/table.tsx';
import { Button, Card, Empty, PageHeader, Progress } from '../components/ui.tsx';
import { useApi, useDebounced } from '../components/use-api.ts';
import { isAdmin, readsOrg } from '../session.ts';
import { TeamCreateDialog } from './team-create-dialog.tsx';
import { attempt } from './team-common.tsx';

export type TeamRow = GetTeamsResponse['data'][number];
const PAGE = 50;

export default function TeamsPage() {
  const [search, setSearch] = useState('');
  const q = useDebounced(search.trim(), 200);
  const [offset, setOffset] = useState(0);
  const [creating, setCreating] = useState(false);
  const list = useApi((signal) => api.getTeams({ query: { limit: PAGE, offset, ...(q ? { q } : {}) }, options: { signal } }), [q, offset]);

  const remove = async (t: TeamRow) => {
    const ok = await confirmAction({
      title: `Delete team ${t.name}?`,
      message: (
        <>
          <p>
            Its {int(t.active_keys)} active key{t.active_keys === 1 ? '' : 's'} and its team management keys are revoked at once, its service accounts stop
            working, and its {int(t.members)} member{t.members === 1 ? '' : 's'} lose access to it. Their accounts stay.
          </p>
          <p>Spend already recorded stays in the reports. This cannot be undone.</p>
        </>
      ),
      confirmLabel: 'Delete team',
    });
    if (!ok) return;
    if (await attempt(() => api.deleteTeamsById({ path: { id: t.id } }), `Team ${t.name} deleted`)) list.reload();
  };

  const columns: Array<Column<TeamRow>> = [
    { label: 'Team', render: (t) => <><a href={`/ui/teams/${t.id}`}>{t.name}</a>{t.description && <div class="muted small team-desc">{t.description}</div>}</> },
    { label: 'Members', numeric: true, render: (t) => int(t.members) },
    { label: 'Active keys', numeric: true, wide: true, render: (t) => int(t.active_keys) },
    { label: 'Spend this month', numeric: true, render: (t) => usd(t.spent_this_month_usd) },
    {
      label: 'Budget',
      render: (t) =>
        t.budget ? (
          <div class="team-budget">
            <span class="num">{usd(t.budget.spent_usd)} of {usd(t.budget.limit_usd)} <span class="muted">({t.budget.period})</span></span>
            <Progress used={t.budget.spent_usd} limit={t.budget.limit_usd} label={`${t.name} budget used`} />
          </div>
        ) : (
          <span class="muted">no budget</span>
        ),
    },
    ...(isAdmin.value ? [{ label: 'Actions', render: (t: TeamRow) => <Button variant="ghost" class="btn-small" onClick={() => remove(t)} aria-label={`Delete team ${t.name}`}>Delete</Button> }] : []),
  ];

  return (
    <>
      <PageHeader
        title="Teams"
        subtitle={readsOrg.value ? 'Every team of the organization: its people, keys, spend and budget.' : 'The teams you belong to.'}
        actions={isAdmin.value && <Button variant="primary" onClick={() => setCreating(true)}>Create team</Button>}
      />
      <Card>
        <div class="toolbar" role="search" aria-label="Filter teams">
          <div class="field">
            <label for="teams-q">Search teams</label>
            <input id="teams-q" type="search" value={search} placeholder="Name or slug" onInput={(e) => { setSearch((e.currentTarget as HTMLInputElement).value); setOffset(0); }} />
          </div>
        </div>
        <Table
          caption="Teams"
          columns={columns}
          rows={list.data?.data}
          rowKey={(t) => t.id}
          loading={list.loading}
          error={list.error}
          onRetry={list.reload}
          empty={q ? <Empty title={`No team matches “${q}”`} /> : <Empty title="No teams yet">{isAdmin.value ? 'Create one to give people keys, budgets and limits.' : 'An admin or a team owner adds you to a team.'}</Empty>}
        />
        <Pager page={offset / PAGE + 1} hasNext={(list.data?.data.length ?? 0) === PAGE} loading={list.loading} onNext={() => setOffset(offset + PAGE)} onPrev={() => setOffset(Math.max(0, offset - PAGE))} />
      </Card>
      <TeamCreateDialog open={creating} onClose={() => setCreating(false)} onCreated={list.reload} />
    </>
  );
}
