// KeyContext: everything the hot path needs to know about a key, loaded in one query on a cache
// miss, compiled against its organization's access rules (access/org-access.ts), and then served
// from memory until an admin change invalidates it. Every per-key check on the hot path (scope,
// IP allowlist, model set) is prepared here, once, so a request pays a bit test and Map lookups.
import type { Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import type { KeyStatus } from './keys.repository.ts';
import type { OrgAccessCache } from '../access/org-access.ts';
import { OPEN_RULE, ruleFromStored, type AccessRule } from '../policy/access-rules.ts';
import { ModelAccess } from '../policy/model-access.ts';
import { IpAllowlist } from '../policy/ip-allowlist.ts';
import { ALL_SCOPES, scopeMask } from '../policy/scopes.ts';
import { rotationDb } from './key-secrets.repository.ts';

export interface KeyContext {
  keyId: number;
  /** key-level counters and budgets are kept under the rotation lineage */
  lineageId: number;
  orgId: number;
  teamId: number | null;
  userId: number | null;
  serviceAccountId: number | null;
  name: string;
  status: KeyStatus;
  expiresAtMs: number | null;
  /** null: the key's current secret; otherwise the id of an older secret still in its grace period */
  secretId: number | null;
  /** when that older secret stops working (the end of its grace period); null for the current one */
  secretUntilMs: number | null;
  /** endpoint scopes as a bit mask (policy/scopes.ts) */
  scopes: number;
  /** the key's own rule, as stored (the effective one is `models` and `ip`) */
  rule: AccessRule;
  /** the effective model set: org ∩ team ∩ key, minus every blocklist */
  models: ModelAccess;
  /** org, team and key IP allowlists: a request must pass all */
  ip: IpAllowlist;
}

/** The key row's fields a context is built from. */
export interface KeyRecord {
  id: number;
  lineage_id: number | null;
  org_id: number;
  team_id: number | null;
  user_id: number | null;
  service_account_id: number | null;
  name: string;
  status: string;
  expires_at: string | null;
  scopes: string;
  ip_allowlist: string;
  model_access: string;
}

export const KEY_RECORD_COLUMNS = ['id', 'lineage_id', 'org_id', 'team_id', 'user_id', 'service_account_id', 'name', 'status', 'expires_at', 'scopes', 'ip_allowlist', 'model_access'] as const;

/**
 * The record of the key a secret belongs to, plus which secret it is (see KeyContext.secretId): the
 * key's current secret, or an older one not ended early (key_secrets; its grace period is checked
 * by the clock in checkAccess, so every replica stops it on time without any invalidation).
 * The second lookup only runs for a hash that is not a current secret (a cache miss either way).
 */
export async function loadKeyRecord(db: Kysely<Database>, hash: string): Promise<{ row: KeyRecord; secretId: number | null; secretUntilMs: number | null } | undefined> {
  const row = await db.selectFrom('api_keys').select(KEY_RECORD_COLUMNS).where('key_hash', '=', hash).executeTakeFirst();
  if (row) return { row, secretId: null, secretUntilMs: null };
  const old = await rotationDb(db)
    .selectFrom('key_secrets as s')
    .innerJoin('api_keys as k', 'k.id', 's.key_id')
    .select(KEY_RECORD_COLUMNS.map((c) => `k.${c}` as const))
    .select(['s.id as secret_id', 's.valid_until'])
    .where('s.key_hash', '=', hash)
    .where('s.ended_at', 'is', null)
    .executeTakeFirst();
  if (!old) return undefined;
  const { secret_id, valid_until, ...record } = old;
  return { row: record, secretId: secret_id, secretUntilMs: Date.parse(valid_until) };
}

export async function loadKeyContext(db: Kysely<Database>, access: OrgAccessCache, hash: string): Promise<KeyContext | undefined> {
  const found = await loadKeyRecord(db, hash);
  if (!found) return undefined;
  const { row } = found;
  const book = await access.get(row.org_id);
  const rule = ruleFromStored(row.model_access, row.ip_allowlist);
  const team = row.team_id === null ? undefined : book.teams.get(row.team_id);
  return {
    keyId: row.id,
    lineageId: row.lineage_id ?? row.id,
    orgId: row.org_id,
    teamId: row.team_id,
    userId: row.user_id,
    serviceAccountId: row.service_account_id,
    name: row.name,
    status: row.status as KeyStatus,
    expiresAtMs: row.expires_at ? Date.parse(row.expires_at) : null,
    secretId: found.secretId,
    secretUntilMs: found.secretUntilMs,
    scopes: scopeMask(row.scopes),
    rule,
    models: ModelAccess.forKey(book, row.team_id, rule),
    ip: new IpAllowlist([
      { level: 'org', cidrs: book.org.ipAllowlist },
      { level: 'team', cidrs: team?.ipAllowlist ?? [] },
      { level: 'key', cidrs: rule.ipAllowlist },
    ]),
  };
}

/** The access fields of a key nothing restricts (every scope, model and address): for fixtures. */
export const OPEN_ACCESS: Pick<KeyContext, 'secretId' | 'secretUntilMs' | 'scopes' | 'rule' | 'models' | 'ip'> = Object.freeze({
  secretId: null,
  secretUntilMs: null,
  scopes: ALL_SCOPES,
  rule: OPEN_RULE,
  models: new ModelAccess([]),
  ip: new IpAllowlist([]),
});
