// Keys (/ui/keys; seed 002): "All keys" (admins and viewers: the organization's; team owners: a
// team's they own) and "My keys" (GET /api/me/keys: the person's own, in every team; a member has
// only this tab). Search, filters and paging are the server's (fast at 1,000,000 keys:
// docs/benchmarks.md); their state is the URL query. "Create key" opens seed 002's dialog.
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api, type GetKeysQuery } from '../api/generated.ts';
import { Pager, useCursor } from '../components/table.tsx';
import { Button, Card, PageHeader, Tabs } from '../components/ui.tsx';
import { useApi } from '../components/use-api.ts';
import { isViewer, me, myTeams, ownedTeamIds, readsOrg } from '../session.ts';
import { useTeams } from './keys-data.ts';
import { FILTER_KEYS, KeysFilters, type FilterState } from './keys-filters.tsx';
import { KeysTable } from './keys-table.tsx';
import { KeyCreateDialog } from './key-create-dialog.tsx';

type Tab = 'all' | 'mine';
const PAGE = 50;

export default function KeysPage() {
  const { query, path, route } = useLocation();
  const person = me.value?.type === 'user';
  const owned = [...ownedTeamIds.value];
  // Admins and viewers list the organization; an owner lists one of their teams at a time.
  const hasAll = readsOrg.value || owned.length > 0;
  const tab: Tab = !hasAll ? 'mine' : !person ? 'all' : query.tab === 'mine' ? 'mine' : 'all';
  const { teams, name: teamName } = useTeams();
  const teamChoices = readsOrg.value ? teams : tab === 'all' ? teams.filter((t) => ownedTeamIds.value.has(t.id)) : teams;
  const f: FilterState = Object.fromEntries(FILTER_KEYS.map((k) => [k, query[k] ?? ''])) as unknown as FilterState;
  if (tab === 'all' && !readsOrg.value && !ownedTeamIds.value.has(Number(f.team_id))) f.team_id = String(owned[0] ?? '');
  const cursor = useCursor();
  const [creating, setCreating] = useState(false);

  const setQuery = (patch: Partial<FilterState> & { tab?: Tab }) => {
    const next = new URLSearchParams();
    const merged: Record<string, string> = { ...f, ...(query.tab ? { tab: query.tab } : {}), ...patch };
    for (const [k, v] of Object.entries(merged)) if (v) next.set(k, v);
    cursor.reset();
    const s = next.toString();
    route(s ? `${path}?${s}` : path, true);
  };

  const listQuery: GetKeysQuery = {
    limit: PAGE,
    ...(f.q ? { q: f.q } : {}),
    ...(f.team_id ? { team_id: Number(f.team_id) } : {}),
    ...(f.status ? { status: f.status } : {}),
    ...(f.tag ? { tag: f.tag } : {}),
    ...(f.sort ? { sort: f.sort as GetKeysQuery['sort'] } : {}),
    ...(f.user_id ? { user_id: Number(f.user_id) } : {}),
    ...(f.service_account_id ? { service_account_id: Number(f.service_account_id) } : {}),
    ...(cursor.cursor ? { cursor: cursor.cursor } : {}),
  };
  const keyOfQuery = JSON.stringify([tab, listQuery]);
  const list = useApi((signal) => (tab === 'mine' ? api.getMeKeys({ query: listQuery, options: { signal } }) : api.getKeys({ query: listQuery, options: { signal } })), [keyOfQuery]);
  const filtered = FILTER_KEYS.some((k) => k !== 'sort' && f[k] !== '' && !(k === 'team_id' && tab === 'all' && !readsOrg.value));
  // Creating: admins, team owners, and members of a team (within its self-service policy).
  const canCreate = !isViewer.value && (readsOrg.value || myTeams.value.length > 0);

  return (
    <>
      <PageHeader
        title="Keys"
        subtitle="API keys for applications, teams and people. A secret is shown once, when it is created."
        actions={canCreate && <Button variant="primary" onClick={() => setCreating(true)}>Create key</Button>}
      />
      {hasAll && person && (
        <Tabs label="Which keys" value={tab} onChange={(t) => setQuery({ tab: t })} tabs={[{ id: 'all', label: readsOrg.value ? 'All keys' : 'Team keys' }, { id: 'mine', label: 'My keys' }]} />
      )}
      <Card>
        <KeysFilters value={f} onChange={setQuery} teams={teamChoices} teamRequired={tab === 'all' && !readsOrg.value} />
        <KeysTable rows={list.data?.data} loading={list.loading} error={list.error} onRetry={list.reload} teamName={teamName} filtered={filtered} />
        <Pager page={cursor.page} hasNext={!!list.data?.next_cursor} loading={list.loading} onNext={() => list.data?.next_cursor && cursor.next(list.data.next_cursor)} onPrev={cursor.prev} />
      </Card>
      <KeyCreateDialog open={creating} onClose={() => setCreating(false)} onCreated={list.reload} teamId={f.team_id ? Number(f.team_id) : undefined} />
    </>
  );
}
