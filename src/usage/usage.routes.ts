// Usage and spend (docs/api.md "Usage", docs/observability.md "Usage and chargeback"):
//   GET /api/usage                 requests, errors, tokens and cost grouped by any of team, user,
//                                  key, model, provider and day|hour; totals; JSON pages or CSV;
//                                  or the top N groups by cost, requests or tokens (order=…)
//   GET /api/orgs/current/spend    the organization's spend: today, this month, last month, total
//   GET /api/keys/{id}/spend       one key's
//   GET /api/me/spend              the signed-in person's own keys, per team
// Everything is read from rollups (usage_rollups, spend_rollups, org_day_rollups), never from the
// request log. Each reader sees their scope (usage/usage-scope.ts); a filter outside it is empty.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import type { Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import type { Deps } from '../deps.ts';
import { authorize } from '../auth/authorize.ts';
import { ApiError } from '../http/errors.ts';
import { parse } from '../http/validate.ts';
import { keyOf, type KeyReq } from '../keys/key-lookup.ts';
import { checkTop, parseGroupBy, usageQuerySchema, usageRange, type UsageQuery } from './usage-query.ts';
import { usageScope } from './usage-scope.ts';
import { decodeCursor, usageCsv, usageJson } from './usage-report.ts';
import { keySpend, orgSpend, userSpend } from './usage-spend.ts';
import { keySpendDoc, meSpendDoc, orgSpendDoc, usageDoc } from './usage-docs.ts';

export function registerUsageRoutes(api: FastifyInstance, deps: Deps): void {
  const db: Kysely<Database> = deps.db.kysely;

  api.get('/usage', {
    config: {
      action: 'usage.read',
      doc: {
        summary: 'Usage grouped by team, user, key, model, provider and day or hour, with totals (JSON pages or CSV)',
        description: 'Read from the usage rollups. Admins and viewers see the organization; team owners their teams and their own keys; everyone else their own keys. Rows are ordered by their group keys; JSON is paged (limit, next_cursor), format=csv streams every row. With order=cost|requests|tokens, the top `limit` groups (at most 1,000) by that sum, largest first, in one page (CSV too); totals are always those of the whole selection.',
        tag: 'Usage',
        query: usageQuerySchema,
        response: usageDoc,
      },
    },
  }, async (req, reply) => {
    authorize(req.actor, 'usage.read');
    const input = parse(usageQuerySchema, req.query, 'query');
    const { dims, grain } = parseGroupBy(input.group_by);
    checkTop(input);
    const now = deps.clock.now();
    const { from, to } = usageRange(input, grain, now);
    const q: UsageQuery = {
      orgId: req.actor.orgId, dims, grain, from, to,
      filters: { teamId: input.team_id, keyId: input.key_id, userId: input.user_id, model: input.model, provider: input.provider },
      scope: usageScope(req.actor),
      order: input.order,
    };
    const after = input.cursor === undefined ? undefined : decodeCursor(input.cursor, q);
    // This replica's queued log rows first: a report right after traffic includes it.
    await deps.logWriter.flush();
    const range = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
    if (input.format === 'csv') {
      const lines = usageCsv(db, q, now, after, input.limit);
      const name = `tollgate-usage-${range.from.slice(0, 10)}-${range.to.slice(0, 10)}.csv`;
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}"`).send(Readable.from(lines));
    }
    const page = await usageJson(db, q, now, after, input.limit);
    return { object: 'usage', ...range, group_by: [...(grain ? [grain] : []), ...dims], order: input.order ?? null, data: page.data, totals: page.totals, limit: input.limit, next_cursor: page.next_cursor };
  });

  api.get('/orgs/current/spend', {
    config: { action: 'org.spend.read', doc: { summary: "The organization's spend: today, this month, last month and all time", tag: 'Usage', response: orgSpendDoc } },
  }, async (req): Promise<z.infer<typeof orgSpendDoc>> => {
    authorize(req.actor, 'org.spend.read');
    await deps.logWriter.flush();
    return { org_id: req.actor.orgId, ...(await orgSpend(db, req.actor.orgId, deps.clock.now())) };
  });

  api.get('/keys/:id/spend', {
    config: { action: 'key.read', doc: { summary: "A key's spend: today, this month, last month and all time", tag: 'Usage', response: keySpendDoc } },
  }, async (req: KeyReq): Promise<z.infer<typeof keySpendDoc>> => {
    const key = await keyOf(deps, req, 'key.read');
    await deps.logWriter.flush();
    return { key_id: key.id, ...(await keySpend(db, key.id, deps.clock.now())) };
  });

  api.get('/me/spend', {
    config: { action: 'me.read', doc: { summary: "The signed-in person's own keys' spend, in all and per team", tag: 'Usage', response: meSpendDoc } },
  }, async (req): Promise<z.infer<typeof meSpendDoc>> => {
    authorize(req.actor, 'me.read');
    if (req.actor.type !== 'user' || req.actor.userId === null) {
      throw new ApiError('invalid_request', 'Only a signed-in person has keys of their own: this request was made with a key; use /api/usage or /api/orgs/current/spend.');
    }
    await deps.logWriter.flush();
    const s = await userSpend(db, req.actor.orgId, req.actor.userId, deps.clock.now());
    return { user_id: req.actor.userId, ...s.total, teams: s.teams };
  });
}
