// Runs the frozen migrations in order. Each migration gets the dialect so it can pick portable
// column types (identity columns differ between SQLite and PostgreSQL; everything else is shared).
import type { Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationProvider } from 'kysely/migration';
import type { DialectName, Db } from './connection.ts';
import * as m0001 from './migrations/0001_init.ts';
import * as m0002 from './migrations/0002_key_listing_indexes.ts';
import * as m0003 from './migrations/0003_org_day_rollups.ts';
import * as m0004 from './migrations/0004_crash_recovery.ts';
import * as m0005 from './migrations/0005_access_rules.ts';
import * as m0006 from './migrations/0006_key_listing_search.ts';
import * as m0007 from './migrations/0007_key_rotation.ts';
import * as m0008 from './migrations/0008_people.ts';
import * as m0010 from './migrations/0010_invitation_user.ts';
import * as m0011 from './migrations/0011_user_email_unique.ts';
import * as m0014 from './migrations/0014_request_log_detail.ts';
import * as m0013 from './migrations/0013_audit_chain.ts';
import * as m0015 from './migrations/0015_usage_rollups.ts';
import * as m0016 from './migrations/0016_request_log_indexes.ts';
import * as m0019 from './migrations/0019_idempotency.ts';
import * as m0020 from './migrations/0020_key_search_fts.ts';
import * as m0021 from './migrations/0021_key_tags.ts';
import * as m0022 from './migrations/0022_routes_and_deployments.ts';
import * as m0023 from './migrations/0023_model_prices.ts';
import * as m0024 from './migrations/0024_provisioned_keys.ts';
import * as m0025 from './migrations/0025_request_log_partitions.ts';
import * as m0026 from './migrations/0026_member_share.ts';

export interface DialectMigration {
  up(db: Kysely<any>, dialect: DialectName): Promise<void>;
}

const MIGRATIONS: Record<string, DialectMigration> = {
  '0001_init': m0001,
  '0002_key_listing_indexes': m0002,
  '0003_org_day_rollups': m0003,
  '0004_crash_recovery': m0004,
  '0005_access_rules': m0005,
  '0006_key_listing_search': m0006,
  '0007_key_rotation': m0007,
  '0008_people': m0008,
  '0010_invitation_user': m0010,
  '0011_user_email_unique': m0011,
  '0013_audit_chain': m0013,
  '0014_request_log_detail': m0014,
  '0015_usage_rollups': m0015,
  '0016_request_log_indexes': m0016,
  '0019_idempotency': m0019,
  '0020_key_search_fts': m0020,
  '0021_key_tags': m0021,
  '0022_routes_and_deployments': m0022,
  '0023_model_prices': m0023,
  '0024_provisioned_keys': m0024,
  '0025_request_log_partitions': m0025,
  '0026_member_share': m0026,
};

class Provider implements MigrationProvider {
  private readonly dialect: DialectName;
  constructor(dialect: DialectName) {
    this.dialect = dialect;
  }
  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const [name, m] of Object.entries(MIGRATIONS)) out[name] = { up: (db) => m.up(db, this.dialect) };
    return out;
  }
}

/** Runs every pending migration, or only up to `target` (a migration name; tests of a migration's data step). */
export async function migrate(db: Db, target?: string): Promise<string[]> {
  const migrator = new Migrator({
    db: db.kysely,
    provider: new Provider(db.dialect),
    migrationTableName: 'tollgate_migrations',
    migrationLockTableName: 'tollgate_migrations_lock',
  });
  const { error, results } = target ? await migrator.migrateTo(target) : await migrator.migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
