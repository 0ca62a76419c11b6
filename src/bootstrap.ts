// First start (and every start): default organization and user, master admin key, and the
// OpenAI credential from OPENAI_API_KEY so a newcomer can make a request at once: it serves the
// explicit catch-all route '*' (listed in /api/routes like any other route; an admin can narrow it).
import type { Kysely, Transaction } from 'kysely';
import { ConfigError, type Config } from './config.ts';
import { createUpstreamGuard } from './net/ssrf.ts';
import type { Database } from './db/types.ts';
import type { Vault } from './vault/crypto.ts';
import { ADMIN_KEY_PREFIX, generateKey, hashSecret } from './keys/key-format.ts';
import { MASTER_KEY_SETTING } from './http/admin-auth.ts';
import { insertCredential } from './vault/credentials.repository.ts';
import { iso } from './clock.ts';
import { adminCredentials, ensureAdmin, systemActor, type FirstAdminOutcome } from './auth/first-admin.ts';

export interface BootstrapResult {
  defaultOrgId: number;
  masterKeyHash: string;
  /** set only when a master key was generated on this start: print it once */
  generatedAdminKey: string | undefined;
  registeredOpenAI: boolean;
  /** TOLLGATE_ADMIN_EMAIL's user: created, its password set, or left as it was */
  firstAdmin: FirstAdminOutcome | undefined;
}

/** `lock`, if given, runs first in the transaction: replicas starting together take turns (runtime.ts). */
export async function bootstrap(db: Kysely<Database>, config: Config, vault: Vault, now: number, lock?: (trx: Transaction<Database>) => Promise<void>): Promise<BootstrapResult> {
  const at = iso(now);
  if (config.openai.apiKey) await checkOperatorUpstream(config);
  const adminCreds = await adminCredentials(config.people.adminEmail, config.people.adminPassword);
  return db.transaction().execute(async (trx) => {
    await lock?.(trx);
    let org = await trx.selectFrom('organizations').select('id').orderBy('id').executeTakeFirst();
    if (!org) org = await trx.insertInto('organizations').values({ name: 'Default', slug: 'default', created_at: at, updated_at: at }).returning('id').executeTakeFirstOrThrow();
    const orgId = org.id;
    const user = await trx.selectFrom('users').select('id').where('org_id', '=', orgId).executeTakeFirst();
    if (!user) await trx.insertInto('users').values({ org_id: orgId, external_id: 'admin', name: 'Administrator', email: null, role: 'admin', created_at: at, updated_at: at }).execute();
    const firstAdmin = adminCreds && (await ensureAdmin(trx, orgId, adminCreds, systemActor('bootstrap', orgId), at));

    let generatedAdminKey: string | undefined;
    let masterKeyHash: string;
    const stored = await trx.selectFrom('settings').select('value').where('key', '=', MASTER_KEY_SETTING).executeTakeFirst();
    if (config.adminKey) {
      masterKeyHash = hashSecret(config.adminKey);
      if (stored?.value !== masterKeyHash) {
        await trx.insertInto('settings').values({ key: MASTER_KEY_SETTING, value: masterKeyHash }).onConflict((oc) => oc.column('key').doUpdateSet({ value: masterKeyHash })).execute();
      }
    } else if (stored) {
      masterKeyHash = stored.value;
    } else {
      generatedAdminKey = generateKey(ADMIN_KEY_PREFIX);
      masterKeyHash = hashSecret(generatedAdminKey);
      await trx.insertInto('settings').values({ key: MASTER_KEY_SETTING, value: masterKeyHash }).execute();
    }

    let registeredOpenAI = false;
    if (config.openai.apiKey) {
      const existing = await trx.selectFrom('provider_credentials').select('id').where('org_id', '=', orgId).where('name', '=', 'openai').where('status', '=', 'active').executeTakeFirst();
      if (!existing) {
        // insertCredential creates the '*' route when the organization has none (else joins it).
        await insertCredential(trx, vault, { orgId, name: 'openai', provider: 'openai', baseUrl: config.openai.baseUrl, apiKey: config.openai.apiKey, models: ['*'] }, at);
        registeredOpenAI = true;
      }
    }
    return { defaultOrgId: orgId, masterKeyHash, generatedAdminKey, registeredOpenAI, firstAdmin };
  });
}

/**
 * OPENAI_BASE_URL comes from the operator, yet it is not exempt from the SSRF guard: the
 * credential it registers belongs to the default organization, whose admins then use it like any
 * other, and the guard cannot tell one connection from another. An internal address (a local vLLM
 * or Ollama) must be listed in TOLLGATE_UPSTREAM_ALLOW; start-up says so rather than every request.
 */
async function checkOperatorUpstream(config: Config): Promise<void> {
  const refused = await createUpstreamGuard(config.upstreamAllow).checkBaseUrl(config.openai.baseUrl);
  if (refused) throw new ConfigError(`OPENAI_BASE_URL: ${refused}; list it in TOLLGATE_UPSTREAM_ALLOW to let Tollgate call it`);
}
