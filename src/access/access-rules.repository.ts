// The stored rules of the org ('org') and of each team ('team:<id>') in access_rules. A key's rule
// lives on its api_keys row instead (model_access, ip_allowlist). No row means the open rule:
// inherit everything, block nothing, any address.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/types.ts';
import { OPEN_RULE, type AccessRule } from '../policy/access-rules.ts';
import { ruleFromRow } from './org-access.ts';

export const ORG_SCOPE = 'org';
export const teamScope = (teamId: number): string => `team:${teamId}`;

export async function getRule(db: Kysely<Database>, orgId: number, scope: string): Promise<AccessRule> {
  const row = await db.selectFrom('access_rules').selectAll().where('org_id', '=', orgId).where('scope', '=', scope).executeTakeFirst();
  return row ? ruleFromRow(row) : OPEN_RULE;
}

export function ruleColumns(rule: AccessRule) {
  return {
    models: rule.models === null ? null : JSON.stringify(rule.models),
    access_groups: rule.accessGroups === null ? null : JSON.stringify(rule.accessGroups),
    blocked_models: JSON.stringify(rule.blockedModels),
    ip_allowlist: JSON.stringify(rule.ipAllowlist),
  };
}

export async function saveRule(trx: Transaction<Database>, orgId: number, scope: string, rule: AccessRule, at: string): Promise<void> {
  const row = { ...ruleColumns(rule), updated_at: at };
  await trx
    .insertInto('access_rules')
    .values({ org_id: orgId, scope, ...row })
    .onConflict((oc) => oc.columns(['org_id', 'scope']).doUpdateSet(row))
    .execute();
}

export async function deleteRule(trx: Transaction<Database>, orgId: number, scope: string): Promise<void> {
  await trx.deleteFrom('access_rules').where('org_id', '=', orgId).where('scope', '=', scope).execute();
}
