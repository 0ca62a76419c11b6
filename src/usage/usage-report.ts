// A usage report as GET /api/usage answers it, apart from HTTP: a JSON page with its totals, or
// the CSV lines of every row (pages of CSV_PAGE groups, each a keyset continuation, so a large
// export is never held whole); with order=…, the top `limit` groups instead, in one page (JSON)
// or one chunk (CSV). bench/lib/usage-scale.ts times these on the scale data set.
import type { Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import { ApiError } from '../http/errors.ts';
import { groupColumns, namesOf, usagePage, usageTop, usageTotals, type KeyValue, type Sums, type UsageGroup } from './usage.repository.ts';
import { plan, type UsageQuery } from './usage-query.ts';
import { seesNothing } from './usage-scope.ts';
import { csvCells, csvHeader, csvLine, groupView, sumsView } from './usage-view.ts';

/** Rows per query while a CSV export streams. */
export const CSV_PAGE = 5000;

const ZERO: Sums = { requests: 0, errors: 0, tokens_in: 0, tokens_out: 0, cached_tokens: 0, reasoning_tokens: 0, cost_micro: 0, unpriced_requests: 0 };

/** The cursor is the last row's group key (opaque to clients: base64url of ["usage", …values]). */
export const encodeCursor = (values: KeyValue[]) => Buffer.from(JSON.stringify(['usage', ...values])).toString('base64url');

export function decodeCursor(cursor: string, q: Pick<UsageQuery, 'dims' | 'grain'>): KeyValue[] {
  let parsed: unknown;
  try {
    parsed = /^[A-Za-z0-9_-]+$/.test(cursor) ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) : undefined;
  } catch { /* refused below */ }
  const cols = groupColumns(q);
  const ok = Array.isArray(parsed) && parsed[0] === 'usage' && parsed.length === cols.length + 1 &&
    cols.every((c, i) => (c === 'bucket' || c === 'model' || c === 'provider' ? typeof parsed[i + 1] === 'string' : Number.isSafeInteger(parsed[i + 1])));
  if (!ok) throw new ApiError('invalid_request', 'query.cursor: is not a cursor returned by this listing with this group_by (next_cursor)', 'query.cursor');
  return (parsed as KeyValue[]).slice(1);
}

const keyOfGroup = (g: UsageGroup, q: UsageQuery): KeyValue[] => groupColumns(q).map((c) => g[c] as KeyValue);

/** One page of groups and the totals of the whole selection, read in one snapshot. */
export async function usageJson(db: Kysely<Database>, q: UsageQuery, now: number, after: KeyValue[] | undefined, limit: number) {
  const rowsPlan = plan(q, now);
  const totalsPlan = plan({ ...q, dims: [], grain: null }, now);
  // One snapshot: the page and the totals agree even while flushes commit.
  const { page, totals } = seesNothing(q.scope)
    ? { page: [], totals: ZERO }
    : await db.transaction().setIsolationLevel('repeatable read').execute(async (trx) => ({
        // A top list is whole (no next page): usage-query.ts checkTop refuses a cursor with it.
        page: q.order ? await usageTop(trx, q, rowsPlan, q.order, limit) : await usagePage(trx, q, rowsPlan, after, limit + 1),
        totals: await usageTotals(trx, q, totalsPlan),
      }));
  const rows = page.slice(0, limit);
  const names = await namesOf(db, q.orgId, rows);
  return {
    data: rows.map((g) => groupView(g, q, names)),
    totals: sumsView(totals),
    next_cursor: page.length > limit ? encodeCursor(keyOfGroup(rows.at(-1)!, q)) : null,
  };
}

/**
 * The CSV export: the header line, then chunks of lines, one chunk per page of groups. Planned
 * here, before the first line: a refused range is a 400, not a broken stream. With q.order, the
 * `top` largest groups in one chunk (the route passes its limit).
 */
export function usageCsv(db: Kysely<Database>, q: UsageQuery, now: number, after: KeyValue[] | undefined, top = CSV_PAGE): AsyncGenerator<string> {
  const rowsPlan = plan(q, now);
  return (async function* lines() {
    yield csvLine(csvHeader(q));
    if (seesNothing(q.scope)) return;
    if (q.order) {
      const rows = await usageTop(db, q, rowsPlan, q.order, top);
      const names = await namesOf(db, q.orgId, rows);
      yield rows.map((g) => csvLine(csvCells(groupView(g, q, names)))).join('');
      return;
    }
    let cursor = after;
    for (;;) {
      const page = await usagePage(db, q, rowsPlan, cursor, CSV_PAGE);
      if (page.length === 0) return;
      const names = await namesOf(db, q.orgId, page);
      let chunk = '';
      for (const g of page) chunk += csvLine(csvCells(groupView(g, q, names)));
      yield chunk;
      if (page.length < CSV_PAGE) return;
      cursor = keyOfGroup(page.at(-1)!, q);
    }
  })();
}
