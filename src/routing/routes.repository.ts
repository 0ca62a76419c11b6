// Routes (`routes`: a public model name of an organization, with its timeout and retries) and
// their deployments (`model_routes` rows of the same org and model: credential, upstream model,
// weight, priority, own price). A route outlives its deployments: deleting a credential removes the
// deployments it served, never the route, so the model answers model_not_found (or its remaining
// fallback) instead of silently reaching the catch-all.
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, ModelRoutesTable, RoutesTable } from '../db/types.ts';

export type RouteRow = Selectable<RoutesTable>;
export type DeploymentRow = Selectable<ModelRoutesTable>;

export interface DeploymentInput {
  credentialId: number;
  upstreamModel: string | null;
  weight: number;
  priority: number;
  /** micro-USD per 1M tokens; input and output both set, or neither (then the price book prices it) */
  inputMicro: number | null;
  outputMicro: number | null;
  cachedInputMicro: number | null;
  maxOutputTokens: number | null;
}

export async function listRoutes(db: Kysely<Database>, orgId: number): Promise<{ routes: RouteRow[]; deployments: DeploymentRow[] }> {
  const [routes, deployments] = await Promise.all([
    db.selectFrom('routes').selectAll().where('org_id', '=', orgId).orderBy('model').execute(),
    db.selectFrom('model_routes').selectAll().where('org_id', '=', orgId).orderBy('priority', 'desc').orderBy('id').execute(),
  ]);
  return { routes, deployments };
}

export async function findRoute(db: Kysely<Database>, orgId: number, id: number): Promise<RouteRow | undefined> {
  return db.selectFrom('routes').selectAll().where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst();
}

export async function findRouteByModel(db: Kysely<Database>, orgId: number, model: string): Promise<RouteRow | undefined> {
  return db.selectFrom('routes').selectAll().where('org_id', '=', orgId).where('model', '=', model).executeTakeFirst();
}

export async function deploymentsOf(db: Kysely<Database>, orgId: number, model: string): Promise<DeploymentRow[]> {
  return db.selectFrom('model_routes').selectAll().where('org_id', '=', orgId).where('model', '=', model).orderBy('priority', 'desc').orderBy('id').execute();
}

export async function insertRoute(trx: Transaction<Database>, orgId: number, model: string, settings: { timeoutMs: number | null; retries: number | null }, at: string): Promise<RouteRow> {
  return trx.insertInto('routes').values({ org_id: orgId, model, timeout_ms: settings.timeoutMs, retries: settings.retries, created_at: at, updated_at: at }).returningAll().executeTakeFirstOrThrow();
}

/** The route of a model, created (default settings) if the organization has none yet. */
export async function ensureRoute(trx: Transaction<Database>, orgId: number, model: string, at: string): Promise<RouteRow> {
  return (await findRouteByModel(trx, orgId, model)) ?? insertRoute(trx, orgId, model, { timeoutMs: null, retries: null }, at);
}

export async function updateRoute(trx: Transaction<Database>, orgId: number, id: number, change: { timeoutMs?: number | null; retries?: number | null }, at: string): Promise<RouteRow | undefined> {
  return trx
    .updateTable('routes')
    .set({ ...(change.timeoutMs !== undefined ? { timeout_ms: change.timeoutMs } : {}), ...(change.retries !== undefined ? { retries: change.retries } : {}), updated_at: at })
    .where('id', '=', id).where('org_id', '=', orgId)
    .returningAll().executeTakeFirst();
}

export async function insertDeployment(trx: Transaction<Database>, orgId: number, model: string, d: DeploymentInput, at: string): Promise<void> {
  await trx.insertInto('model_routes').values({
    org_id: orgId, model, credential_id: d.credentialId, upstream_model: d.upstreamModel, weight: d.weight, priority: d.priority,
    input_price_micro: d.inputMicro, output_price_micro: d.outputMicro, cached_input_price_micro: d.cachedInputMicro, max_output_tokens: d.maxOutputTokens, created_at: at,
  }).execute();
}

/** A route's deployments, replaced as a whole. */
export async function replaceDeployments(trx: Transaction<Database>, orgId: number, model: string, deployments: DeploymentInput[], at: string): Promise<void> {
  await trx.deleteFrom('model_routes').where('org_id', '=', orgId).where('model', '=', model).execute();
  for (const d of deployments) await insertDeployment(trx, orgId, model, d, at);
}

/** Removes a route and its deployments; false when the organization has no such route. */
export async function deleteRoute(trx: Transaction<Database>, orgId: number, id: number): Promise<RouteRow | undefined> {
  const row = await findRoute(trx, orgId, id);
  if (!row) return undefined;
  await trx.deleteFrom('model_routes').where('org_id', '=', orgId).where('model', '=', row.model).execute();
  await trx.deleteFrom('routes').where('id', '=', id).execute();
  return row;
}
