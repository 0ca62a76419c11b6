// The response schemas of the usage and spend routes (usage.routes.ts), as the OpenAPI document
// shows them and the dashboard's generated client types them. Under test every answer is checked
// against them (app.ts, TOLLGATE_VALIDATE_RESPONSES), so they follow usage-view.ts and
// usage-spend.ts field for field.
import { z } from 'zod';
import { USAGE_ORDERS } from './usage-query.ts';

const sums = {
  requests: z.number(),
  errors: z.number(),
  tokens_in: z.number(),
  tokens_out: z.number(),
  cached_tokens: z.number(),
  reasoning_tokens: z.number(),
  cost_usd: z.number().describe('USD, from the exact micro-USD sum'),
  cost_micro: z.number().describe('micro-USD (exact, for reconciliation)'),
  unpriced_requests: z.number().describe('requests whose model had no price: their cost is not in cost_usd'),
};

/** One group: only the keys of the grouped dimensions are present (groupView's order). */
export const usageRowDoc = z.object({
  day: z.string().optional().describe('YYYY-MM-DD (group_by day)'),
  hour: z.string().optional().describe('YYYY-MM-DDTHH:00:00Z (group_by hour)'),
  team_id: z.number().nullable().optional(),
  team_name: z.string().nullable().optional(),
  user_id: z.number().nullable().optional(),
  user_external_id: z.string().nullable().optional(),
  key_id: z.number().nullable().optional(),
  key_name: z.string().nullable().optional(),
  key_prefix: z.string().nullable().optional(),
  model: z.string().optional(),
  provider: z.string().nullable().optional(),
  ...sums,
});

export const usageDoc = z.object({
  object: z.literal('usage'),
  from: z.string().describe('inclusive, ISO-8601'),
  to: z.string().describe('exclusive, ISO-8601'),
  group_by: z.array(z.string()),
  order: z.enum(USAGE_ORDERS).nullable().describe('the sum the rows are ranked by, largest first (order=…); null: group key order'),
  data: z.array(usageRowDoc),
  totals: z.object(sums).describe('of the whole selection, not only this page'),
  limit: z.number(),
  next_cursor: z.string().nullable().describe('always null with order (the top groups are one page)'),
});

const figures = z.object({
  requests: z.number(),
  cost_usd: z.number(),
  tokens_in: z.number(),
  tokens_out: z.number(),
  unpriced_requests: z.number(),
});

/** today, this month, last month and all time (UTC calendar) */
const periods = { today: figures, this_month: figures, last_month: figures, total: figures };

export const orgSpendDoc = z.object({ org_id: z.number(), ...periods });
export const keySpendDoc = z.object({ key_id: z.number(), ...periods });
export const meSpendDoc = z.object({
  user_id: z.number(),
  ...periods,
  teams: z.array(z.object({ team_id: z.number().nullable().describe('null: keys outside any team'), ...periods })),
});
