// Provider credentials ("master keys"): sealed with the vault before they touch the database, and
// never returned by the API: views show only a hint (last four characters).
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, ModelRoutesTable, ProviderCredentialsTable } from '../db/types.ts';
import type { Vault } from './crypto.ts';
import { ensureRoute, insertDeployment } from '../routing/routes.repository.ts';

export type CredentialRow = Selectable<ProviderCredentialsTable>;
export type RouteRow = Selectable<ModelRoutesTable>;

export interface CredentialInput {
  orgId: number;
  name: string;
  provider: string;
  baseUrl: string;
  apiKey: string;
  /** models this credential serves; ['*'] routes every model not routed elsewhere */
  models: string[];
  /** a team-scoped credential serves only that team's keys (null: the whole organization) */
  teamId?: number | null;
  /** provider settings (ProviderSpec.options), already checked */
  options?: Record<string, string>;
}

const optionsText = (o: Record<string, string> | undefined) => (o && Object.keys(o).length ? JSON.stringify(o) : null);

/** The options column as an object (what the API shows; the Router parses it itself). */
export function optionsOf(c: Pick<CredentialRow, 'options'>): Record<string, string> {
  if (!c.options) return {};
  try {
    const v: unknown = JSON.parse(c.options);
    return v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === 'string')) as Record<string, string> : {};
  } catch {
    return {};
  }
}

/**
 * A deployment of this credential for `model`, under the model's route: created when the model has
 * none yet, else the credential joins the existing route as one more deployment (a fallback or a
 * share of its traffic at the default priority and weight).
 */
async function addDeployment(trx: Transaction<Database>, orgId: number, credentialId: number, model: string, at: string): Promise<void> {
  await ensureRoute(trx, orgId, model, at);
  await insertDeployment(trx, orgId, model, { credentialId, upstreamModel: null, weight: 1, priority: 0, inputMicro: null, outputMicro: null, cachedInputMicro: null, maxOutputTokens: null }, at);
}

export function hint(secret: string): string {
  return secret.length > 8 ? `...${secret.slice(-4)}` : '...';
}

export function credentialView(c: CredentialRow, routes: RouteRow[]) {
  return {
    id: c.id,
    name: c.name,
    provider: c.provider,
    base_url: c.base_url,
    team_id: c.team_id,
    options: optionsOf(c),
    api_key_hint: c.secret_hint,
    status: c.status,
    models: routes.filter((r) => r.credential_id === c.id).map((r) => r.model),
    created_at: c.created_at,
    updated_at: c.updated_at,
  };
}

export async function insertCredential(trx: Transaction<Database>, vault: Vault, input: CredentialInput, at: string): Promise<CredentialRow> {
  const row = await trx
    .insertInto('provider_credentials')
    .values({
      org_id: input.orgId,
      name: input.name,
      provider: input.provider,
      base_url: input.baseUrl.replace(/\/+$/, ''),
      secret_enc: vault.seal(input.apiKey),
      secret_hint: hint(input.apiKey),
      team_id: input.teamId ?? null,
      options: optionsText(input.options),
      created_at: at,
      updated_at: at,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  for (const model of new Set(input.models)) await addDeployment(trx, input.orgId, row.id, model, at);
  return row;
}

export async function listCredentials(db: Kysely<Database>, orgId: number): Promise<{ credentials: CredentialRow[]; routes: RouteRow[] }> {
  const credentials = await db.selectFrom('provider_credentials').selectAll().where('org_id', '=', orgId).where('status', '=', 'active').orderBy('id').execute();
  const routes = await db.selectFrom('model_routes').selectAll().where('org_id', '=', orgId).orderBy('priority', 'desc').orderBy('id').execute();
  return { credentials, routes: routes.filter((r) => credentials.some((c) => c.id === r.credential_id)) };
}

/**
 * Deletes the credential and the deployments it served; their routes stay (migration 0022): a
 * model it alone served answers model_not_found until an admin routes it, never the catch-all.
 */
export async function deleteCredential(trx: Transaction<Database>, orgId: number, id: number, at: string): Promise<boolean> {
  await trx.deleteFrom('model_routes').where('credential_id', '=', id).where('org_id', '=', orgId).execute();
  const res = await trx.updateTable('provider_credentials').set({ status: 'deleted', updated_at: at, secret_enc: '', secret_hint: '' }).where('id', '=', id).where('org_id', '=', orgId).where('status', '=', 'active').executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/**
 * Encryption key rotation: re-seals every stored credential under the vault's newest key version,
 * so the old version can then be removed from TOLLGATE_ENCRYPTION_KEY (docs/production.md).
 * One transaction; a row changed meanwhile is left for the next run.
 */
export async function resealCredentials(db: Kysely<Database>, vault: Vault): Promise<{ resealed: number; total: number }> {
  return db.transaction().execute(async (trx) => {
    const rows = await trx.selectFrom('provider_credentials').select(['id', 'secret_enc']).where('secret_enc', '!=', '').orderBy('id').execute();
    let resealed = 0;
    for (const r of rows) {
      if (vault.versionOf(r.secret_enc) === vault.currentVersion) continue;
      await trx.updateTable('provider_credentials').set({ secret_enc: vault.seal(vault.open(r.secret_enc)) }).where('id', '=', r.id).where('secret_enc', '=', r.secret_enc).execute();
      resealed++;
    }
    return { resealed, total: rows.length };
  });
}

export interface CredentialChange {
  name?: string;
  baseUrl?: string;
  /** replaces the provider settings as a whole */
  options?: Record<string, string>;
  /** the full new list: routes of models no longer listed go, new ones are added, kept ones keep their settings */
  models?: string[];
}

/** The active credential `id` of the organization, or undefined. */
export async function findCredential(db: Kysely<Database>, orgId: number, id: number): Promise<CredentialRow | undefined> {
  return db.selectFrom('provider_credentials').selectAll().where('id', '=', id).where('org_id', '=', orgId).where('status', '=', 'active').executeTakeFirst();
}

export async function routesOf(db: Kysely<Database>, credentialId: number): Promise<RouteRow[]> {
  return db.selectFrom('model_routes').selectAll().where('credential_id', '=', credentialId).orderBy('priority', 'desc').orderBy('id').execute();
}

/** Name, base URL, options and models of an active credential; undefined when there is none. A model left out loses this deployment, not its route. */
export async function updateCredential(trx: Transaction<Database>, orgId: number, id: number, change: CredentialChange, at: string): Promise<CredentialRow | undefined> {
  const row = await trx
    .updateTable('provider_credentials')
    .set({
      ...(change.name !== undefined ? { name: change.name } : {}),
      ...(change.baseUrl !== undefined ? { base_url: change.baseUrl.replace(/\/+$/, '') } : {}),
      ...(change.options !== undefined ? { options: optionsText(change.options) } : {}),
      updated_at: at,
    })
    .where('id', '=', id).where('org_id', '=', orgId).where('status', '=', 'active')
    .returningAll().executeTakeFirst();
  if (!row || change.models === undefined) return row;
  const wanted = new Set(change.models);
  const current = await routesOf(trx, id);
  const gone = current.filter((r) => !wanted.has(r.model)).map((r) => r.id);
  if (gone.length) await trx.deleteFrom('model_routes').where('id', 'in', gone).execute();
  const kept = new Set(current.map((r) => r.model));
  for (const model of wanted) if (!kept.has(model)) await addDeployment(trx, orgId, id, model, at);
  return row;
}

/** Seals a new secret for an active credential (the old one is gone for good); undefined when there is none. */
export async function rotateCredentialSecret(trx: Transaction<Database>, vault: Vault, orgId: number, id: number, apiKey: string, at: string): Promise<CredentialRow | undefined> {
  return trx
    .updateTable('provider_credentials')
    .set({ secret_enc: vault.seal(apiKey), secret_hint: hint(apiKey), updated_at: at })
    .where('id', '=', id).where('org_id', '=', orgId).where('status', '=', 'active')
    .returningAll().executeTakeFirst();
}
