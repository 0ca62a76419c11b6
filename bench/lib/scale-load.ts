// Loading the scale data set (bench/scale.ts's description: 1,000,000 keys over 10,000 teams, their
// members and service accounts, request logs and their rollups) into SQLite, and migrating the
// loaded database to the current schema. Shared by bench/scale.ts and bench/ui-keys-search.ts.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/db/types.ts';
import type { Db } from '../../src/db/connection.ts';
import { migrate } from '../../src/db/migrate.ts';

export interface ScaleCounts {
  keys: number;
  teams: number;
  logs: number;
  membersPerTeam: number;
  serviceAccounts: number;
  days: number;
}

/** The large team: 10% of the keys (a platform team's automation), beside 10,000 teams of ~100. */
export const BIG_TEAM = 1;

/** Keys given real secrets (so a request can authenticate with them): their hashes, and the key id of the i-th. */
export interface RealKeys {
  hashes: string[];
  idOf: (i: number) => number;
}

export async function loadSqlite(db: Kysely<Database>, N: ScaleCounts, real: RealKeys, AT: string, say: (line: string) => void): Promise<void> {
  const ms = (t0: number) => Math.round(performance.now() - t0);
  const users = () => N.teams * N.membersPerTeam;
  const { hashes: realHashes, idOf: realKeyId } = real;
  // No generate_series in SQLite: a recursive CTE counts instead; hashes are random blobs.
  const seq = (n: number) => sql`with recursive s(g) as (select 1 union all select g + 1 from s where g < ${n})`;
  const q = async (what: string, query: ReturnType<typeof sql>) => {
    const t0 = performance.now();
    const r = await query.execute(db);
    say(`  ${what}: ${r.numAffectedRows ?? 0} rows in ${ms(t0)} ms`);
  };
  await q('organization', sql`insert into organizations (name, slug, created_at, updated_at) values ('Scale', 'scale', ${AT}, ${AT})`);
  await q('teams', sql`${seq(N.teams)} insert into teams (org_id, name, slug, created_at, updated_at) select 1, 'team-' || g, 'team-' || g, ${AT}, ${AT} from s`);
  await q('users', sql`${seq(users())} insert into users (org_id, external_id, created_at, updated_at) select 1, 'user-' || g, ${AT}, ${AT} from s`);
  await q('memberships', sql`${seq(users())} insert into memberships (team_id, user_id, created_at, updated_at) select ((g - 1) % ${N.teams}) + 1, g, ${AT}, ${AT} from s`);
  await q('service accounts', sql`${seq(N.serviceAccounts)} insert into service_accounts (org_id, team_id, name, created_at) select 1, g, 'sa-' || g, ${AT} from s`);
  // The same shape as on PostgreSQL (loadPostgres), descriptions from random bytes instead of md5.
  const keyTeam = sql`((g - 1) % ${N.teams}) + 1`;
  const sa = sql`((g / 20) % ${N.serviceAccounts}) + 1`;
  const isoOf = (offset: ReturnType<typeof sql>) => sql`strftime('%Y-%m-%dT%H:%M:%fZ', ${AT}, ${offset})`;
  await q(
    'api_keys',
    sql`${seq(N.keys)} insert into api_keys (org_id, team_id, user_id, service_account_id, name, description, tags, key_prefix, key_hash, status, expires_at, created_at, updated_at, last_used_at)
        select 1,
               case when g % 20 = 7 then ${sa} when g % 10 = 3 then ${BIG_TEAM} else ${keyTeam} end,
               case when g % 20 = 7 then null else ${keyTeam} + ${N.teams} * ((g / ${N.teams}) % ${N.membersPerTeam}) end,
               case when g % 20 = 7 then ${sa} end,
               'key-' || g,
               case when g % 2 = 0 then 'Workload ' || lower(hex(randomblob(16))) end,
               case when g % 10007 = 0 then '["pci","prod"]' when g % 3 = 0 then '["prod"]' when g % 3 = 1 then '["ci","batch"]' else '[]' end,
               'sk-tg-' || lower(hex(randomblob(3))) || '...', lower(hex(randomblob(32))),
               case when g % 50 = 0 then 'revoked' when g % 100 = 33 then 'disabled' else 'active' end,
               case when (g / 10) % 10 < 3 then ${isoOf(sql`'+' || (1 + (g * 104729) % (365 * 86400)) || ' seconds'`)} end,
               ${isoOf(sql`'-' || (${N.keys} - g) || ' minutes'`)}, ${AT},
               case when g % 10 < 7 then ${isoOf(sql`'-' || ((g * 7919) % (90 * 86400)) || ' seconds'`)} end
        from s`,
  );
  const t0 = performance.now();
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < realHashes.length; i++) await trx.updateTable('api_keys').set({ key_hash: realHashes[i]! }).where('id', '=', realKeyId(i)).execute();
  });
  say(`  real keys: ${realHashes.length} in ${ms(t0)} ms`);
  await q(
    'request_logs',
    sql`${seq(N.logs)} insert into request_logs (request_id, created_at, org_id, team_id, user_id, key_id, endpoint, model, provider, status_code, streamed, tokens_in, tokens_out, cost_micro, latency_ms, client_ip)
        select lower(hex(randomblob(16))), strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || (g % (${N.days} * 86400)) || ' seconds'), 1, ((k - 1) % ${N.teams}) + 1, ((k - 1) % ${N.teams}) + 1, k,
               'chat/completions', case when g % 3 = 0 then 'gpt-4o' else 'gpt-4o-mini' end, 'openai', 200, g % 2, 100 + g % 500, 50 + g % 300, 100, 5 + g % 400, '10.0.0.1'
        from (select g, ((g * 2654435761) % ${N.keys}) + 1 as k from s)`,
  );
  await q(
    'spend_rollups',
    sql`insert into spend_rollups (day, key_id, model, org_id, team_id, user_id, requests, tokens_in, tokens_out, cost_micro, unpriced_requests)
        select substr(created_at, 1, 10), key_id, model, min(org_id), min(team_id), min(user_id), count(*), sum(tokens_in), sum(tokens_out), sum(cost_micro), 0 from request_logs group by 1, 2, 3`,
  );
  await q('org_day_rollups', sql.raw(`insert into org_day_rollups (org_id, day, requests, tokens_in, tokens_out, cost_micro, unpriced_requests)
       select org_id, day, sum(requests), sum(tokens_in), sum(tokens_out), sum(cost_micro), sum(unpriced_requests) from spend_rollups group by org_id, day`));
}

/**
 * The data is loaded into the schema as it stood before the key listing's migration (0006); the
 * migrations from there on then run on the loaded data, as on an upgraded installation: they
 * build their indexes in bulk (1M rows inserted one index entry at a time into GIN indexes took
 * 168 s) and backfill, and their time is reported.
 */
export const LOADED_AT = '0005_access_rules';

export async function migrateLoaded(db: Db, say: (line: string) => void): Promise<{ migrations: string[]; seconds: number }> {
  const ms = (t0: number) => Math.round(performance.now() - t0);
  const t0 = performance.now();
  const migrations = await migrate(db);
  const seconds = ms(t0) / 1000;
  say(`  migrations on the loaded data (${migrations.join(', ')}): ${seconds.toFixed(1)} s`);
  const t1 = performance.now();
  // A settled database, as in production: without this, autovacuum works through the fresh rows
  // during the measurements, on the same two cores.
  await sql.raw(db.dialect === 'postgres' ? 'vacuum analyze' : 'analyze').execute(db.kysely);
  say(`  ${db.dialect === 'postgres' ? 'vacuum analyze' : 'analyze'}: ${ms(t1)} ms`);
  return { migrations, seconds };
}
