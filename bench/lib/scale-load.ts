// Loading the scale data set (bench/scale.ts's description: 1,000,000 keys over 10,000 teams, their
// members and service accounts, request logs and their rollups) into PostgreSQL or SQLite, and
// migrating the loaded database to the current schema. Shared by bench/scale.ts and bench/ui-keys-search.ts.
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
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

export async function loadPostgres(url: string, N: ScaleCounts, real: RealKeys, AT: string, say: (line: string) => void): Promise<void> {
  const ms = (t0: number) => Math.round(performance.now() - t0);
  const users = () => N.teams * N.membersPerTeam;
  const realHashes = real.hashes;
  // real.idOf(i) is (i + 1) * stride: the SQL finds the i-th real key by that stride
  const stride = real.idOf(0);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const q = async (what: string, text: string, values: unknown[] = []) => {
    const t0 = performance.now();
    const r = await client.query(text, values);
    say(`  ${what}: ${r.rowCount ?? 0} rows in ${ms(t0)} ms`);
  };
  try {
    await client.query('SET synchronous_commit = off');
    await q('organization', `insert into organizations (name, slug, created_at, updated_at) values ('Scale', 'scale', $1, $1)`, [AT]);
    await q('teams', `insert into teams (org_id, name, slug, created_at, updated_at) select 1, 'team-' || g, 'team-' || g, $2, $2 from generate_series(1, $1::int) g`, [N.teams, AT]);
    await q('users', `insert into users (org_id, external_id, email, created_at, updated_at) select 1, 'user-' || g, 'user-' || g || '@example.com', $2, $2 from generate_series(1, $1::int) g`, [users(), AT]);
    // user u is a member of team ((u - 1) % teams) + 1
    await q('memberships', `insert into memberships (team_id, user_id, created_at, updated_at) select ((g - 1) % $2::int) + 1, g, $3, $3 from generate_series(1, $1::int) g`, [users(), N.teams, AT]);
    await q('service accounts', `insert into service_accounts (org_id, team_id, name, created_at) select 1, g, 'sa-' || g, $2 from generate_series(1, $1::int) g`, [N.serviceAccounts, AT]);
    // KEY_SHAPE (below) in SQL: key k belongs to team ((k - 1) % teams) + 1 and to one of that
    // team's members, except the large team's keys and the service accounts' keys.
    const keyTeam = `((g - 1) % $2::int) + 1`;
    const keyUser = `${keyTeam} + $2::int * ((g / $2::int) % ${N.membersPerTeam})`;
    const sa = `((g / 20) % ${N.serviceAccounts}) + 1`;
    const at = `$6::timestamp`;
    const isoOf = (t: string) => `to_char(${t}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
    await q(
      'api_keys',
      `insert into api_keys (org_id, team_id, user_id, service_account_id, name, description, tags, key_prefix, key_hash, status, expires_at, created_at, updated_at, last_used_at)
       select 1,
              case when g % 20 = 7 then ${sa} when g % 10 = 3 then ${BIG_TEAM} else ${keyTeam} end,
              case when g % 20 = 7 then null else ${keyUser} end,
              case when g % 20 = 7 then ${sa} end,
              'key-' || g,
              case when g % 2 = 0 then 'Workload ' || md5((g * 31)::text) end,
              case when g % 10007 = 0 then '["pci","prod"]' when g % 3 = 0 then '["prod"]' when g % 3 = 1 then '["ci","batch"]' else '[]' end,
              'sk-tg-' || substr(md5(g::text), 1, 6) || '...',
              case when g % $4::int = 0 and g / $4::int <= $5::int then ($3::text[])[g / $4::int] else encode(sha256(('bench-key-' || g)::bytea), 'hex') end,
              case when g % 50 = 0 then 'revoked' when g % 100 = 33 then 'disabled' else 'active' end,
              case when (g / 10) % 10 < 3 then ${isoOf(`${at} + (1 + (g::bigint * 104729) % (365 * 86400)) * interval '1 second'`)} end,
              ${isoOf(`${at} - ($1::int - g) * interval '1 minute'`)}, $7,
              case when g % 10 < 7 then ${isoOf(`${at} - ((g::bigint * 7919) % (90 * 86400)) * interval '1 second'`)} end
       from generate_series(1, $1::int) g`,
      [N.keys, N.teams, realHashes, stride, realHashes.length, AT.slice(0, 23), AT],
    );
    // Logs over the last N.days days; key spread by a multiplicative hash, team/user follow the key.
    const chunk = 2_000_000;
    for (let from = 1; from <= N.logs; from += chunk) {
      const to = Math.min(N.logs, from + chunk - 1);
      await q(
        `request_logs ${from.toLocaleString('en')}–${to.toLocaleString('en')}`,
        `insert into request_logs (request_id, created_at, org_id, team_id, user_id, key_id, endpoint, model, provider, status_code, streamed, tokens_in, tokens_out, cost_micro, latency_ms, client_ip)
         select md5(g::text), to_char(now() at time zone 'UTC' - (g % ($4::int * 86400)) * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                1, ((k - 1) % $3::int) + 1, ((k - 1) % $3::int) + 1 + $3::int * ((k / $3::int) % ${N.membersPerTeam}), k,
                'chat/completions', case when g % 3 = 0 then 'gpt-4o' else 'gpt-4o-mini' end, 'openai', 200, g % 2, 100 + g % 500, 50 + g % 300,
                (100 + g % 500) * 15 / 100 + (50 + g % 300) * 60 / 100, 5 + g % 400, '10.0.0.1'
         from (select g, ((g::bigint * 2654435761) % $5::bigint) + 1 as k from generate_series($1::int, $2::int) g) s`,
        [from, to, N.teams, N.days, N.keys],
      );
    }
    await q(
      'spend_rollups (from the logs)',
      `insert into spend_rollups (day, key_id, model, org_id, team_id, user_id, requests, tokens_in, tokens_out, cost_micro, unpriced_requests)
       select substr(created_at, 1, 10), key_id, model, min(org_id), min(team_id), min(user_id), count(*), sum(tokens_in), sum(tokens_out), sum(cost_micro), 0
       from request_logs group by 1, 2, 3`,
    );
    await q(
      'org_day_rollups (from the rollups, as migration 0003 does)',
      `insert into org_day_rollups (org_id, day, requests, tokens_in, tokens_out, cost_micro, unpriced_requests)
       select org_id, day, sum(requests), sum(tokens_in), sum(tokens_out), sum(cost_micro), sum(unpriced_requests) from spend_rollups group by org_id, day`,
    );
  } finally {
    await client.end();
  }
}
