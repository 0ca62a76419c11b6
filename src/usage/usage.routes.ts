// Usage and spend (docs/api.md "Usage", docs/observability.md "Usage and chargeback"):
//   GET /api/usage                 requests, errors, tokens and cost grouped by any of team, user,
//                                  key, model, provider and day|hour; totals; JSON pages or CSV
//   GET /api/orgs/current/spend    the organization's spend: today, this month, last month, total
//   GET /api/keys/{id}/spend       one key's
//   GET /api/me/spend              the signed-in person's own keys, per team
// Everything is read from rollups (usage_rollups, spend_rollups, org_day_rollups), never from the
// request log. Each reader sees their scope (usage/usage-scope.ts); a filter outside it is empty.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import type { Deps } from '../deps.ts';
import { authorize } from '../auth/authorize.ts';
import { ApiError } from '../http/errors.ts';
import { parse } from '../http/validate.ts';
import { keyOf, type KeyReq } from '../keys/key-lookup.ts';
import { groupColumns, namesOf, usagePage, usageTotals, type KeyValue, type Sums } from './usage.repository.ts';
import { parseGroupBy, plan, usageQuerySchema, usageRange, type UsageQuery } from './usage-query.ts';
import { seesNothing, usageScope } from './usage-scope.ts';
import { csvCells, csvHeader, csvLine, groupView, sumsView } from './usage-view.ts';
import { keySpend, orgSpend, userSpend } from './usage-spend.ts';

/** Rows per query while a CSV export streams (each page is a keyset continuation). */
const CSV_PAGE = 5000;

const ZERO: Sums = { requests: 0, errors: 0, tokens_in: 0, tokens_out: 0, cached_tokens: 0, reasoning_tokens: 0, cost_micro: 0, unpriced_requests: 0 };

/** The cursor is the last row's group key (opaque to clients: base64url of ["usage", …values]). */
const encodeCursor = (values: KeyValue[]) => Buffer.from(JSON.stringify(['usage', ...values])).toString('base64url');
function decodeCursor(cursor: string, q: UsageQuery): KeyValue[] {
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

const keyOfGroup = (g: Record<string, unknown>, q: UsageQuery): KeyValue[] => groupColumns(q).map((c) => g[c] as KeyValue);

export function registerUsageRoutes(api: FastifyInstance, deps: Deps): void {
  const db: Kysely<Database> = deps.db.kysely;

  api.get('/usage', {
    config: {
      action: 'usage.read',
      doc: {
        summary: 'Usage grouped by team, user, key, model, provider and day or hour, with totals (JSON pages or CSV)',
        description: 'Read from the usage rollups. Admins and viewers see the organization; team owners their teams and their own keys; everyone else their own keys. Rows are ordered by their group keys; JSON is paged (limit, next_cursor), format=csv streams every row.',
        tag: 'Usage',
        query: usageQuerySchema,
      },
    },
  }, async (req, reply) => {
    authorize(req.actor, 'usage.read');
    const input = parse(usageQuerySchema, req.query, 'query');
    const { dims, grain } = parseGroupBy(input.group_by);
    const now = deps.clock.now();
    const { from, to } = usageRange(input, grain, now);
    const q: UsageQuery = {
      orgId: req.actor.orgId, dims, grain, from, to,
      filters: { teamId: input.team_id, keyId: input.key_id, userId: input.user_id, model: input.model, provider: input.provider },
      scope: usageScope(req.actor),
    };
    const rowsPlan = plan(q, now);
    const totalsPlan = plan({ ...q, dims: [], grain: null }, now);
    const after = input.cursor === undefined ? undefined : decodeCursor(input.cursor, q);
    const empty = seesNothing(q.scope);
    // This replica's queued log rows first: a report right after traffic includes it.
    await deps.logWriter.flush();
    const range = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
    const groupBy = [...(grain ? [grain] : []), ...dims];

    if (input.format === 'csv') {
      const header = csvHeader(q);
      async function* lines(): AsyncGenerator<string> {
        yield csvLine(header);
        let cursor = after;
        for (;;) {
          const page = empty ? [] : await usagePage(db, q, rowsPlan, cursor, CSV_PAGE);
          if (page.length === 0) return;
          const names = await namesOf(db, q.orgId, page);
          let chunk = '';
          for (const g of page) chunk += csvLine(csvCells(groupView(g, q, names)));
          yield chunk;
          if (page.length < CSV_PAGE) return;
          cursor = keyOfGroup(page.at(-1)! as unknown as Record<string, unknown>, q);
        }
      }
      const name = `tollgate-usage-${range.from.slice(0, 10)}-${range.to.slice(0, 10)}.csv`;
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}"`)
        .send(Readable.from(lines()));
    }

    // One snapshot: the page and the totals agree even while flushes commit.
    const { page, totals } = empty
      ? { page: [], totals: ZERO }
      : await db.transaction().setIsolationLevel('repeatable read').execute(async (trx) => ({
          page: await usagePage(trx, q, rowsPlan, after, input.limit + 1),
          totals: await usageTotals(trx, q, totalsPlan),
        }));
    const rows = page.slice(0, input.limit);
    const names = await namesOf(db, q.orgId, rows);
    return {
      object: 'usage',
      ...range,
      group_by: groupBy,
      data: rows.map((g) => groupView(g, q, names)),
      totals: sumsView(totals),
      limit: input.limit,
      next_cursor: page.length > input.limit ? encodeCursor(keyOfGroup(rows.at(-1)! as unknown as Record<string, unknown>, q)) : null,
    };
  });

  api.get('/orgs/current/spend', {
    config: { action: 'org.spend.read', doc: { summary: "The organization's spend: today, this month, last month and all time", tag: 'Usage' } },
  }, async (req) => {
    authorize(req.actor, 'org.spend.read');
    await deps.logWriter.flush();
    return { org_id: req.actor.orgId, ...(await orgSpend(db, req.actor.orgId, deps.clock.now())) };
  });

  api.get('/keys/:id/spend', {
    config: { action: 'key.read', doc: { summary: "A key's spend: today, this month, last month and all time", tag: 'Usage' } },
  }, async (req: KeyReq) => {
    const key = await keyOf(deps, req, 'key.read');
    await deps.logWriter.flush();
    return { key_id: key.id, ...(await keySpend(db, key.id, deps.clock.now())) };
  });

  api.get('/me/spend', {
    config: { action: 'me.read', doc: { summary: "The signed-in person's own keys' spend, in all and per team", tag: 'Usage' } },
  }, async (req) => {
    authorize(req.actor, 'me.read');
    if (req.actor.type !== 'user' || req.actor.userId === null) {
      throw new ApiError('invalid_request', 'Only a signed-in person has keys of their own: this request was made with a key; use /api/usage or /api/orgs/current/spend.');
    }
    await deps.logWriter.flush();
    const s = await userSpend(db, req.actor.orgId, req.actor.userId, deps.clock.now());
    return { user_id: req.actor.userId, ...s.total, teams: s.teams };
  });
}
