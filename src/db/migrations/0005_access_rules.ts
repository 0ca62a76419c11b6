// Frozen once landed. The asset boundary (docs/access.md):
// - access_groups: named, org-scoped sets of model names and prefix patterns ('gpt-4o*').
// - access_rules: the org's rule (scope 'org') and each team's ('team:<id>'): models and
//   access_groups (null = inherit), blocked_models, ip_allowlist, all JSON text. A key's rule
//   stays on its api_keys row (model_access, ip_allowlist), which already existed.
// - api_keys.created_by_actor: who created the key ('user:5', 'admin_key:3', 'admin_key:master',
//   'system:rotation'); the old integer created_by was always 0 for admin keys.
// Data: scopes were stored and never checked. Each key's scopes become the canonical list
// (policy/scopes.ts); a word naming an endpoint keeps it ("embeddings:read" → "embeddings"); a key
// with no recognisable word keeps "*", which is what it could do before.
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../connection.ts';
import { normalizeScopes, SCOPES } from '../../policy/scopes.ts';

export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const id = dialect === 'postgres' ? sql`serial primary key` : sql`integer primary key autoincrement`;
  await db.schema
    .createTable('access_groups')
    .addColumn('id', id)
    .addColumn('org_id', 'integer', (c) => c.notNull().references('organizations.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('models', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('access_groups_org_name_idx').on('access_groups').columns(['org_id', 'name']).unique().execute();

  await db.schema
    .createTable('access_rules')
    .addColumn('org_id', 'integer', (c) => c.notNull().references('organizations.id'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('models', 'text')
    .addColumn('access_groups', 'text')
    .addColumn('blocked_models', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('ip_allowlist', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('access_rules_pk', ['org_id', 'scope'])
    .execute();

  await db.schema.alterTable('api_keys').addColumn('created_by_actor', 'text').execute();

  const odd = await db.selectFrom('api_keys').select(['id', 'scopes']).where('scopes', '!=', '*').execute();
  for (const k of odd as Array<{ id: number; scopes: string }>) {
    const words = k.scopes.split(/[\s,]+/).map((w) => w.split(':')[0]!).filter((w) => w === '*' || (SCOPES as readonly string[]).includes(w));
    const normal = words.length > 0 ? normalizeScopes(words) : { ok: true as const, value: '*' };
    await db.updateTable('api_keys').set({ scopes: normal.ok ? normal.value : '*' }).where('id', '=', k.id).execute();
  }
}
