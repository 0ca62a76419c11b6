// The spend explorer's table: one row per group of the chosen dimension (or per day / hour) with
// its requests, errors, tokens, cost and unpriced requests, and a last row of totals for the whole
// selection. Cached and reasoning token columns appear when any row has some. The columns are the
// CSV export's (usage/usage-view.ts), so "Export CSV" downloads the rows shown here.
import type { ComponentChildren } from 'preact';
import { compact, int, usd } from '../components/format.ts';
import { Table, type Column } from '../components/table.tsx';
import { Empty } from '../components/ui.tsx';
import { groupHref, groupLabel, type UsageRow, type UsageTotals } from './spend-data.ts';
import type { Group } from './spend-view.ts';

type Line = (UsageRow & { total?: false }) | (UsageTotals & { total: true });

const GROUP_LABELS: Record<Group, string> = { team: 'Team', key: 'Key', user: 'User', model: 'Model', provider: 'Provider', day: 'Day (UTC)', hour: 'Hour (UTC)' };

function groupCell(r: UsageRow, group: Group, only?: (r: UsageRow) => string | undefined): ComponentChildren {
  if (group === 'day') return r.day;
  if (group === 'hour') return r.hour?.slice(0, 13).replace('T', ' ') + ':00';
  const href = groupHref(r, group);
  const label = groupLabel(r, group);
  const prefix = group === 'key' && r.key_prefix ? <span class="muted mono small wide"> {r.key_prefix}</span> : null;
  const filter = only?.(r);
  return (
    <span class="spend-group">
      {href ? <a href={href}>{label}</a> : label}{prefix}
      {filter && ' '}
      {filter && <a class="spend-only" href={filter} aria-label={`filter to ${label}`} title={`Show only ${label}`}>filter</a>}
    </span>
  );
}

const num = (label: string, pick: (l: Line) => number, fmt: (v: number) => string = int, wide = false): Column<Line> => ({ label, numeric: true, wide, render: (l) => fmt(pick(l)) });

export function SpendTable({ rows, totals, group, loading, error, onRetry, only }: {
  rows: UsageRow[] | undefined;
  totals: UsageTotals | undefined;
  group: Group;
  loading: boolean;
  error: unknown;
  onRetry: () => void;
  /** the explorer's URL narrowed to a row's group (team, key, model), when it can be */
  only?: (r: UsageRow) => string | undefined;
}) {
  const any = (f: 'cached_tokens' | 'reasoning_tokens') => (rows ?? []).some((r) => r[f] > 0);
  const columns: Array<Column<Line>> = [
    { label: GROUP_LABELS[group], render: (l) => (l.total ? <strong>Total</strong> : groupCell(l, group, only)) },
    num('Requests', (l) => l.requests),
    num('Errors', (l) => l.errors, int, true),
    num('Tokens in', (l) => l.tokens_in, compact, true),
    num('Tokens out', (l) => l.tokens_out, compact, true),
    ...(any('cached_tokens') ? [num('Cached', (l) => l.cached_tokens, compact, true)] : []),
    ...(any('reasoning_tokens') ? [num('Reasoning', (l) => l.reasoning_tokens, compact, true)] : []),
    num('Cost', (l) => l.cost_usd, usd),
    num('Unpriced', (l) => l.unpriced_requests, int, true),
  ];
  const lines: Line[] | undefined = rows && [...rows, ...(totals && rows.length > 0 ? [{ ...totals, total: true as const }] : [])];
  return (
    <Table
      columns={columns}
      rows={lines}
      rowKey={(l) => (l.total ? 'total' : JSON.stringify([l.day, l.hour, l.team_id, l.key_id, l.user_id, l.model, l.provider]))}
      loading={loading}
      error={error}
      onRetry={onRetry}
      caption={`Spend by ${GROUP_LABELS[group].toLowerCase()}`}
      empty={<Empty title="No usage in this range">Try a longer time range or fewer filters.</Empty>}
    />
  );
}
