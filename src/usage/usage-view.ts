// What GET /api/usage shows of a group: its keys (ids with their names, a missing team or provider
// as null), its counts, and its cost in USD from the integer micro-USD sum, divided once (also
// given as cost_micro, exact, for reconciliation). The same fields, in the same order, are the
// columns of the CSV export.
import { microToUsd } from './spend.repository.ts';
import type { Names, Sums, UsageGroup } from './usage.repository.ts';
import type { UsageQuery } from './usage-query.ts';

export type Cell = string | number | null;

export function sumsView(s: Sums) {
  return {
    requests: s.requests,
    errors: s.errors,
    tokens_in: s.tokens_in,
    tokens_out: s.tokens_out,
    cached_tokens: s.cached_tokens,
    reasoning_tokens: s.reasoning_tokens,
    cost_usd: microToUsd(s.cost_micro),
    cost_micro: s.cost_micro,
    unpriced_requests: s.unpriced_requests,
  };
}

const orNull = (id: number | undefined) => (id === undefined || id === 0 ? null : id);

/** One group as an ordered record: the JSON row, and the CSV line's cells in this order. */
export function groupView(g: UsageGroup, q: Pick<UsageQuery, 'dims' | 'grain'>, names: Names): Record<string, Cell> {
  const out: Record<string, Cell> = {};
  if (q.grain === 'day') out.day = g.bucket!;
  if (q.grain === 'hour') out.hour = `${g.bucket!}:00:00Z`;
  for (const d of q.dims) {
    if (d === 'team') {
      out.team_id = orNull(g.team_id);
      out.team_name = names.teams.get(g.team_id!) ?? null;
    } else if (d === 'user') {
      out.user_id = orNull(g.user_id);
      out.user_external_id = names.users.get(g.user_id!) ?? null;
    } else if (d === 'key') {
      out.key_id = orNull(g.key_id);
      const k = names.keys.get(g.key_id!);
      out.key_name = k?.name ?? null;
      out.key_prefix = k?.prefix ?? null;
    } else if (d === 'model') out.model = g.model!;
    else out.provider = g.provider || null;
  }
  out.requests = g.requests;
  out.errors = g.errors;
  out.tokens_in = g.tokens_in;
  out.tokens_out = g.tokens_out;
  out.cached_tokens = g.cached_tokens;
  out.reasoning_tokens = g.reasoning_tokens;
  out.cost_usd = microToUsd(g.cost_micro);
  out.cost_micro = g.cost_micro;
  out.unpriced_requests = g.unpriced_requests;
  return out;
}

/** The CSV header: the names of groupView's fields, for a query's grouping. */
export function csvHeader(q: Pick<UsageQuery, 'dims' | 'grain'>): string[] {
  const none: Names = { teams: new Map(), keys: new Map(), users: new Map() };
  const zero = { requests: 0, errors: 0, tokens_in: 0, tokens_out: 0, cached_tokens: 0, reasoning_tokens: 0, cost_micro: 0, unpriced_requests: 0 };
  return Object.keys(groupView({ ...zero, bucket: '', team_id: 0, user_id: 0, key_id: 0, model: '', provider: '' }, q, none));
}

/** micro-USD as an exact decimal string ("6.000123"): no float on the way to a spreadsheet. */
export function microToDecimal(micro: number): string {
  const s = String(Math.abs(Math.round(micro))).padStart(7, '0');
  return `${micro < 0 ? '-' : ''}${s.slice(0, -6)}.${s.slice(-6)}`;
}

/** A cell that needs quoting or the formula guard (most do not: models, names, decimals). */
const NEEDS_CARE = /^[=+\-@\t\r]|[",\r\n]/;

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break, quotes doubled. Text
 * a spreadsheet would run as a formula (a key named "=HYPERLINK(…)") is prefixed with a quote mark.
 */
export function csvCell(v: Cell): string {
  if (v === null) return '';
  if (typeof v === 'number') return String(v);
  if (!NEEDS_CARE.test(v)) return v;
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvLine(cells: readonly Cell[]): string {
  return cells.map(csvCell).join(',') + '\r\n';
}

/** A row's CSV cells: cost_usd as the exact decimal of cost_micro. */
export function csvCells(row: Record<string, Cell>): Cell[] {
  const cells = Object.values(row);
  cells[cells.length - 3] = microToDecimal(row.cost_micro as number); // cost_usd: see groupView's order
  return cells;
}
