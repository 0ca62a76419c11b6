// What the limits routes answer, as the OpenAPI document promises it (and the dashboard's client is
// typed from). policyView and explainLevels (explain.ts) build these shapes.
import { z } from 'zod';

/** a level's limits as stored (policyView): null = not set */
export const policyDoc = z.object({
  rpm: z.number().nullable(),
  rph: z.number().nullable(),
  rpd: z.number().nullable(),
  tpm: z.number().nullable(),
  tpd: z.number().nullable(),
  max_parallel_requests: z.number().nullable(),
  max_budget_usd: z.number().nullable(),
  budget_period: z.enum(['total', 'daily', 'weekly', 'monthly']).nullable(),
  budget_mode: z.enum(['hard', 'soft']).nullable(),
  alert_thresholds: z.array(z.number()),
  /** teams: each member's share of the team's tpm / tpd ('fair' or a fraction); null = none */
  member_share: z.union([z.literal('fair'), z.number()]).nullable(),
});

const windowDoc = z.object({
  limit: z.number(),
  used: z.number(),
  remaining: z.number(),
  resets_in_seconds: z.number(),
  reset_at: z.string().nullable(),
  /** a member's token window capped by the team's member share: how the limit was derived */
  member_share: z.object({ of: z.union([z.literal('fair'), z.number()]), fraction: z.number(), team_limit: z.number(), members: z.number().nullable() }).optional(),
});

/** one level with where it stands now (explain.ts) */
export const limitsLayerDoc = z.object({
  level: z.string(),
  scope: z.string(),
  policy: policyDoc,
  /** by window name (rpm, rph, rpd, tpm, tpd): only the windows that have a limit */
  windows: z.record(z.string(), windowDoc),
  concurrency: z.object({ limit: z.number(), in_flight: z.number() }).nullable(),
  budget: z
    .object({
      limit_usd: z.number(),
      period: z.string(),
      mode: z.string(),
      spent_usd: z.number(),
      reserved_usd: z.number(),
      remaining_usd: z.number(),
      period_key: z.string(),
      resets_at: z.string().nullable(),
    })
    .nullable(),
});

/** a key's every level (key, member, service account, team, org), and its access */
export const keyLimitsDoc = z.object({
  key_id: z.number(),
  name: z.string().nullable(),
  team_id: z.number().nullable(),
  user_id: z.number().nullable(),
  status: z.string(),
  layers: z.array(limitsLayerDoc),
  access: z.looseObject({ scopes: z.string() }),
});

/** PUT / PATCH / DELETE: the level's limits after the change */
export const limitsChangedDoc = policyDoc.extend({ level: z.string(), scope: z.string() });
