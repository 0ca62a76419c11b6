// Request logs (/ui/logs): every request through the gateway, newest first, filtered (team, key,
// user, model, status, error code, time range — all kept in the URL, so /ui/logs?key_id=7 works)
// and paged by cursor. Keys, users and teams read as their names (the API joins them in), with
// the id beside. A row opens a drawer with every recorded field (?request_id= in the URL).
// The API narrows what each person sees: the organization (admins, viewers), their teams (team
// owners), the requests made with their own keys (everyone else).
import { useEffect } from 'preact/hooks';
import { api, type GetLogsResponse } from '../api/generated.ts';
import { Badge, Card, Empty, PageHeader } from '../components/ui.tsx';
import { Pager, Table, useCursor, type Column } from '../components/table.tsx';
import { useApi } from '../components/use-api.ts';
import { dateTime, int, usd } from '../components/format.ts';
import { ownedTeamIds, readsOrg } from '../session.ts';
import { idOrUndefined, isoFromLocal, useQueryState, useTeamNames } from './logs-query.ts';
import { LOG_FILTERS, LogFilters, type LogFilterState } from './logs-filters.tsx';
import { LogDrawer } from './logs-drawer.tsx';
import { StatusCode } from './logs-status.tsx';
import { Named } from './logs-names.tsx';

type Entry = GetLogsResponse['data'][number];
const KEYS = [...LOG_FILTERS, 'request_id'] as const;
const PAGE_SIZE = 50;

export default function Logs() {
  const [q, setQ] = useQueryState(KEYS);
  const { teams } = useTeamNames();
  const cursor = useCursor();
  const filterKey = LOG_FILTERS.map((k) => q[k]).join('\u0000');
  // A new filter starts from the newest request again.
  useEffect(() => cursor.reset(), [filterKey]);
  const { data, error, loading, reload } = useApi((signal) => api.getLogs({
    query: {
      team_id: idOrUndefined(q.team_id), key_id: idOrUndefined(q.key_id), user_id: idOrUndefined(q.user_id),
      model: q.model || undefined, status: q.status || undefined, error_code: q.error_code || undefined,
      from: isoFromLocal(q.from), to: isoFromLocal(q.to), cursor: cursor.cursor, limit: PAGE_SIZE,
    },
    options: { signal },
  }), [filterKey, cursor.cursor]);

  const open = (r: Entry) => setQ({ request_id: r.request_id });
  const columns: Array<Column<Entry>> = [
    { label: 'Time', render: (r) => <button type="button" class="link-btn" onClick={() => open(r)} aria-label={`Details of the request at ${dateTime(r.created_at)}, ${r.model}`}><span class="nowrap">{dateTime(r.created_at)}</span></button> },
    { label: 'Key', render: (r) => <Named kind="Key" id={r.key_id} name={r.key_name} /> },
    { label: 'User', wide: true, render: (r) => (r.user_id === null ? '—' : <Named kind="User" id={r.user_id} name={r.user_name} />) },
    { label: 'Team', wide: true, render: (r) => (r.team_id === null ? '—' : <Named kind="Team" id={r.team_id} name={r.team_name} />) },
    { label: 'Model', render: (r) => <span class="mono">{r.model}</span> },
    { label: 'Status', render: (r) => <span class="ops-status"><StatusCode code={r.status_code} />{r.error_code && <span class="muted small">{r.error_code}</span>}</span> },
    { label: 'Tokens', numeric: true, render: (r) => <span class="nowrap" title="input → output">{int(r.tokens_in)} → {int(r.tokens_out)}</span> },
    { label: 'Cost', numeric: true, render: (r) => (r.unpriced ? <Badge tone="warn">unpriced</Badge> : usd(r.cost_usd)) },
    { label: 'Latency', numeric: true, wide: true, render: (r) => <span class="nowrap">{int(r.latency_ms)} ms</span> },
  ];
  const filtered = LOG_FILTERS.some((k) => q[k] !== '');
  const scope = readsOrg.value ? 'every request in the organization' : ownedTeamIds.value.size ? 'the requests of the teams you own and of your own keys' : 'the requests made with your own keys';

  return (
    <>
      <PageHeader title="Request logs" subtitle={`Newest first: ${scope}.`} />
      <Card>
        <LogFilters value={q} onChange={(patch) => setQ({ ...patch, request_id: '' } as Partial<LogFilterState & { request_id: string }>)} teams={teams} showUser={readsOrg.value || ownedTeamIds.value.size > 0} />
        <Table
          columns={columns}
          rows={data?.data}
          rowKey={(r) => r.id}
          loading={loading}
          error={error}
          onRetry={reload}
          caption="Request logs"
          empty={<Empty title={filtered ? 'No request matches these filters.' : 'No requests yet.'}>{filtered ? 'Clear or widen the filters.' : 'Requests made with a key through /v1 appear here within seconds.'}</Empty>}
        />
        <Pager page={cursor.page} hasNext={!!data?.next_cursor} loading={loading} onNext={() => data?.next_cursor && cursor.next(data.next_cursor)} onPrev={cursor.prev} />
      </Card>
      {q.request_id && <LogDrawer requestId={q.request_id} onClose={() => setQ({ request_id: '' })} />}
    </>
  );
}
