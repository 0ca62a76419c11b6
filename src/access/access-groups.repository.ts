// Access groups: named, org-scoped sets of model names and patterns that the org, teams and keys
// grant by id. A group's models are read when a key context compiles (access/org-access.ts), so a
// change reaches every key that names it on its next request, with no key edit.
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { AccessGroupsTable, Database } from '../db/types.ts';
import { ApiError } from '../http/errors.ts';
import { ruleFromStored, storedModelAccess, type AccessRule } from '../policy/access-rules.ts';
import { ruleFromRow } from './org-access.ts';
import { ORG_SCOPE, ruleColumns } from './access-rules.repository.ts';

export type GroupRow = Selectable<AccessGroupsTable>;

export function groupView(g: GroupRow) {
  return { id: g.id, name: g.name, description: g.description, models: JSON.parse(g.models) as string[], created_at: g.created_at, updated_at: g.updated_at };
}

export async function listGroups(db: Kysely<Database>, orgId: number, limit: number, offset: number): Promise<GroupRow[]> {
  return db.selectFrom('access_groups').selectAll().where('org_id', '=', orgId).orderBy('id').limit(limit).offset(offset).execute();
}

export async function getGroup(db: Kysely<Database>, orgId: number, id: number): Promise<GroupRow> {
  const row = await db.selectFrom('access_groups').selectAll().where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst();
  if (!row) throw new ApiError('not_found', `access group ${id} not found`);
  return row;
}

const nameTaken = (name: string) => new ApiError('conflict', `an access group named "${name}" already exists`, 'name');

async function assertNameFree(db: Kysely<Database>, orgId: number, name: string, exceptId?: number): Promise<void> {
  let q = db.selectFrom('access_groups').select('id').where('org_id', '=', orgId).where('name', '=', name);
  if (exceptId !== undefined) q = q.where('id', '!=', exceptId);
  if (await q.executeTakeFirst()) throw nameTaken(name);
}

/** Two writers racing for one name (PostgreSQL, read committed): the unique index decides, and the loser gets the same 409. */
async function uniqueName<T>(name: string, write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE') throw nameTaken(name);
    throw err;
  }
}

export interface GroupInput {
  name: string;
  description?: string | null | undefined;
  models: string[];
}

export async function insertGroup(trx: Transaction<Database>, orgId: number, input: GroupInput, at: string): Promise<GroupRow> {
  await assertNameFree(trx, orgId, input.name);
  return uniqueName(
    input.name,
    trx
      .insertInto('access_groups')
      .values({ org_id: orgId, name: input.name, description: input.description ?? null, models: JSON.stringify(input.models), created_at: at, updated_at: at })
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
}

export async function updateGroup(trx: Transaction<Database>, group: GroupRow, input: Partial<GroupInput>, at: string): Promise<GroupRow> {
  const patch: Partial<GroupRow> = { updated_at: at };
  if (input.name !== undefined) {
    await assertNameFree(trx, group.org_id, input.name, group.id);
    patch.name = input.name;
  }
  if (input.description !== undefined) patch.description = input.description ?? null;
  if (input.models !== undefined) patch.models = JSON.stringify(input.models);
  return uniqueName(input.name ?? group.name, trx.updateTable('access_groups').set(patch).where('id', '=', group.id).returningAll().executeTakeFirstOrThrow());
}

/** Who names a group: the org rule, live teams' rules, live (not revoked) keys. */
export interface GroupUsage {
  org: boolean;
  teams: Array<{ id: number; rule: AccessRule }>;
  keys: Array<{ id: number; rule: AccessRule }>;
}

export const inUse = (u: GroupUsage): boolean => u.org || u.teams.length > 0 || u.keys.length > 0;

export async function groupUsage(db: Kysely<Database>, orgId: number, groupId: number): Promise<GroupUsage> {
  const names = (rule: AccessRule) => rule.accessGroups?.includes(groupId) ?? false;
  const rules = await db.selectFrom('access_rules').selectAll().where('org_id', '=', orgId).where('access_groups', 'is not', null).execute();
  const out: GroupUsage = { org: false, teams: [], keys: [] };
  for (const r of rules) {
    const rule = ruleFromRow(r);
    if (!names(rule)) continue;
    if (r.scope === ORG_SCOPE) out.org = true;
    else if (r.scope.startsWith('team:')) out.teams.push({ id: Number(r.scope.slice(5)), rule });
  }
  // A deleted team's rule (left by an older version) names nothing anyone can use.
  if (out.teams.length > 0) {
    const live = await db.selectFrom('teams').select('id').where('org_id', '=', orgId).where('deleted_at', 'is', null).where('id', 'in', out.teams.map((t) => t.id)).execute();
    const ids = new Set(live.map((t) => t.id));
    out.teams = out.teams.filter((t) => ids.has(t.id)).sort((a, b) => a.id - b.id);
  }
  // Keys keep their rule as JSON text on their row; only rows that name any group are parsed.
  const keys = await db
    .selectFrom('api_keys')
    .select(['id', 'model_access', 'ip_allowlist'])
    .where('org_id', '=', orgId)
    .where('status', '!=', 'revoked')
    .where('model_access', 'like', '%"access_groups"%')
    .orderBy('id')
    .execute();
  for (const k of keys) {
    const rule = ruleFromStored(k.model_access, k.ip_allowlist);
    if (names(rule)) out.keys.push({ id: k.id, rule });
  }
  return out;
}

/**
 * Removes the group from every rule that names it (force delete). A restricted level keeps its
 * restriction: `access_groups: [3]` becomes `[]`, never null, so removing a group only narrows.
 */
export async function removeGroupFromRules(trx: Transaction<Database>, orgId: number, groupId: number, usage: GroupUsage, at: string): Promise<void> {
  const without = (rule: AccessRule): AccessRule => ({ ...rule, accessGroups: (rule.accessGroups ?? []).filter((id) => id !== groupId) });
  const setRule = (scope: string, rule: AccessRule) =>
    trx.updateTable('access_rules').set({ ...ruleColumns(rule), updated_at: at }).where('org_id', '=', orgId).where('scope', '=', scope).execute();
  if (usage.org) {
    const row = await trx.selectFrom('access_rules').selectAll().where('org_id', '=', orgId).where('scope', '=', ORG_SCOPE).executeTakeFirstOrThrow();
    await setRule(ORG_SCOPE, without(ruleFromRow(row)));
  }
  for (const t of usage.teams) await setRule(`team:${t.id}`, without(t.rule));
  for (const k of usage.keys) await trx.updateTable('api_keys').set({ model_access: storedModelAccess(without(k.rule)), updated_at: at }).where('id', '=', k.id).execute();
}

export async function deleteGroup(trx: Transaction<Database>, group: GroupRow): Promise<void> {
  await trx.deleteFrom('access_groups').where('id', '=', group.id).execute();
}
