// Teams: the ownership boundary for keys, spend and logs. Deleting a team is a soft delete (its
// spend history and logs stay) that revokes every key it holds in the same transaction.
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, TeamsTable } from '../db/types.ts';
import { ApiError } from '../http/errors.ts';
import { deleteRule, teamScope } from '../access/access-rules.repository.ts';
import { likeSubstring } from '../users/users.repository.ts';

export type TeamRow = Selectable<TeamsTable>;

export interface TeamView {
  id: number;
  name: string;
  slug: string;
  description: string | null;
  created_by: number;
  created_at: string;
  updated_at: string;
}

export function teamView(t: TeamRow): TeamView {
  return { id: t.id, name: t.name, slug: t.slug, description: t.description, created_by: t.created_by, created_at: t.created_at, updated_at: t.updated_at };
}

export function slugify(name: string): string {
  return name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64) || 'team';
}

export async function findTeam(db: Kysely<Database>, orgId: number, id: number): Promise<TeamRow | undefined> {
  return db.selectFrom('teams').selectAll().where('id', '=', id).where('org_id', '=', orgId).where('deleted_at', 'is', null).executeTakeFirst();
}

export async function getTeam(db: Kysely<Database>, orgId: number, id: number): Promise<TeamRow> {
  const team = await findTeam(db, orgId, id);
  if (!team) throw new ApiError('not_found', `team ${id} not found`);
  return team;
}

/** `visible`: 'all', or the only team ids the caller may see. */
/** `search`: a part of the name or slug, any case (the dashboard's search box). */
/** `after`: the cursor of id-ordered paging (teams with a greater id only). */
export async function listTeams(db: Kysely<Database>, orgId: number, limit: number, offset: number, visible: 'all' | number[] = 'all', search?: string, after?: number): Promise<TeamRow[]> {
  if (visible !== 'all' && visible.length === 0) return [];
  let q = db.selectFrom('teams').selectAll().where('org_id', '=', orgId).where('deleted_at', 'is', null);
  if (visible !== 'all') q = q.where('id', 'in', visible);
  if (search !== undefined) {
    const pattern = likeSubstring(search);
    q = q.where((eb) => eb.or(['name', 'slug'].map((col) => eb(sql`lower(${sql.ref(col)})`, 'like', sql`${pattern} escape '\\'`))));
  }
  if (after !== undefined) q = q.where('id', '>', after);
  return q.orderBy('id').limit(limit).offset(offset).execute();
}

async function assertSlugFree(db: Kysely<Database>, orgId: number, slug: string, exceptId?: number): Promise<void> {
  let q = db.selectFrom('teams').select('id').where('org_id', '=', orgId).where('slug', '=', slug);
  if (exceptId) q = q.where('id', '!=', exceptId);
  if (await q.executeTakeFirst()) throw new ApiError('conflict', `a team with slug "${slug}" already exists`, 'slug');
}

export interface TeamInput {
  name: string;
  slug?: string | undefined;
  description?: string | null | undefined;
}

export async function insertTeam(trx: Transaction<Database>, orgId: number, input: TeamInput, createdBy: number, at: string): Promise<TeamRow> {
  const slug = input.slug ?? slugify(input.name);
  await assertSlugFree(trx, orgId, slug);
  return trx
    .insertInto('teams')
    .values({ org_id: orgId, name: input.name, slug, description: input.description ?? null, created_by: createdBy, created_at: at, updated_at: at })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function updateTeam(trx: Transaction<Database>, team: TeamRow, input: Partial<TeamInput>, at: string): Promise<TeamRow> {
  const patch: Partial<TeamRow> = { updated_at: at };
  if (input.name !== undefined) patch.name = input.name;
  if (input.description !== undefined) patch.description = input.description ?? null;
  if (input.slug !== undefined) {
    await assertSlugFree(trx, team.org_id, input.slug, team.id);
    patch.slug = input.slug;
  }
  return trx.updateTable('teams').set(patch).where('id', '=', team.id).returningAll().executeTakeFirstOrThrow();
}

/** Soft-deletes the team, frees its slug, revokes all of its live keys and drops its access rule. Returns revoked key ids. */
export async function deleteTeam(trx: Transaction<Database>, team: TeamRow, at: string): Promise<number[]> {
  const revoked = await trx
    .updateTable('api_keys')
    .set({ status: 'revoked', revoked_at: at, updated_at: at })
    .where('team_id', '=', team.id)
    .where('status', '!=', 'revoked')
    .returning('id')
    .execute();
  await trx
    .updateTable('teams')
    .set({ deleted_at: at, updated_at: at, slug: `${team.slug}~deleted-${team.id}` })
    .where('id', '=', team.id)
    .execute();
  // A deleted team's rule names nothing usable; left behind it would keep its access groups "in use".
  await deleteRule(trx, team.org_id, teamScope(team.id));
  // Management keys scoped to the team go with it (they could act on nothing, but would stay live).
  await trx.updateTable('admin_keys').set({ revoked_at: at }).where('team_id', '=', team.id).where('revoked_at', 'is', null).execute();
  return revoked.map((r) => r.id);
}
