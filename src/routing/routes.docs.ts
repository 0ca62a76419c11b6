// Request and response shapes of /api/routes (validated bodies; the OpenAPI document; the
// dashboard's generated client).
import { z } from 'zod';
import { id } from '../http/validate.ts';

/** USD per 1M tokens, as the price book shows them; stored as integer micro-USD. */
const usdPer1m = z.number().min(0, 'must be at least 0').max(1_000_000, 'must be at most 1,000,000 (USD per 1M tokens)');

export const deploymentBody = z.strictObject({
  credential_id: id.describe('an active provider credential of this organization (GET /api/providers); a team-scoped one serves only its team\'s keys'),
  upstream_model: z.string().trim().min(1, 'must not be empty').max(200).optional().describe('the model name sent to the provider (default: the route\'s model); not on the catch-all, which sends the name asked for'),
  weight: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1000).default(1).describe('share of traffic among deployments of the same priority'),
  priority: z.number().int('must be a whole number').min(-1000).max(1000).default(0).describe('higher is tried first; lower priorities are the fallbacks'),
  input_per_1m_usd: usdPer1m.optional(),
  output_per_1m_usd: usdPer1m.optional(),
  cached_input_per_1m_usd: usdPer1m.optional(),
  max_output_tokens: z.number().int().min(0).max(10_000_000).optional().describe('bounds a reservation when a request sets no max_tokens'),
});

const model = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const timeoutMs = z.number().int('must be a whole number').min(1000, 'must be at least 1000').max(3_600_000, 'must be at most 3600000');
const retries = z.number().int('must be a whole number').min(0, 'must be at least 0').max(3, 'must be at most 3');
const deployments = z.array(deploymentBody).max(20, 'at most 20 deployments per route');

export const createRouteBody = z.strictObject({
  model: model.describe('the name clients ask for; "*" is the catch-all: it serves every model no other route names'),
  deployments: deployments.describe('empty: the model answers model_not_found (and never reaches the catch-all)'),
  timeout_ms: timeoutMs.nullable().optional().describe('the whole upstream response, at most (default: TOLLGATE_UPSTREAM_TIMEOUT_MS)'),
  retries: retries.nullable().optional().describe('tries again on the same deployment before falling back (default 0, at most 3)'),
});

export const updateRouteBody = z.strictObject({
  deployments: deployments.optional().describe('replaces the deployments as a whole'),
  timeout_ms: timeoutMs.nullable().optional(),
  retries: retries.nullable().optional(),
});

const priceDoc = z.object({
  input_per_1m_usd: z.number(),
  output_per_1m_usd: z.number(),
  cached_input_per_1m_usd: z.number().nullable().describe('null: cached input is charged as input'),
  source: z.enum(['route', 'price_book']).describe('route: this deployment\'s own price; price_book: the organization\'s price book for the upstream model'),
});

export const deploymentDoc = z.object({
  id: z.number(),
  credential_id: z.number(),
  credential_name: z.string(),
  provider: z.string(),
  team_id: z.number().nullable().describe('a team-scoped credential: only that team\'s keys are served by this deployment'),
  upstream_model: z.string().nullable().describe('null on the catch-all: the name asked for is sent'),
  weight: z.number(),
  priority: z.number(),
  max_output_tokens: z.number().nullable(),
  price: priceDoc.nullable().describe('null: unpriced (requests are logged with no cost, and a hard budget refuses them); on the catch-all, priced per model by the price book'),
  circuit: z.enum(['closed', 'open', 'half_open']).describe('the circuit breaker on the replica that answered: open = skipped after repeated failures, half_open = the next request probes it'),
});

export const routeDoc = z.object({
  id: z.number(),
  model: z.string(),
  catch_all: z.boolean(),
  timeout_ms: z.number().nullable(),
  retries: z.number().nullable(),
  deployments: z.array(deploymentDoc).describe('in priority order; empty: the model answers model_not_found'),
  created_at: z.string(),
  updated_at: z.string(),
});

export const routeListDoc = z.object({ data: z.array(routeDoc) });
export const routeDeletedDoc = z.object({ id: z.number(), model: z.string(), deleted: z.boolean() });

export type DeploymentBody = z.infer<typeof deploymentBody>;
