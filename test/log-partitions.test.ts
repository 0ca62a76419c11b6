// Request logs partitioned by day on PostgreSQL (migration 0025, src/usage/log-partitions.ts,
// retention in src/usage/log-retention.ts), with the test clock: a new database has the partitioned
// table and the days ahead; rows written by the real log writer land in their day's partition, a
// row whose day has none lands in DEFAULT (readable) and moves to its day when the keeper creates
// it; keepers racing each other do not fail, and none waits for a log batch in progress;
// retention drops whole old partitions (gone from the catalog) and leaves the rollups, the spend
// and the newer logs as they were; listings bounded in time read only their days' partitions,
// through indexes. Converting a table that has rows: they stay readable, ids continue, and the
// legacy partition is pruned row by row, then dropped. SQLite keeps one table and its batched
// deletes. Listings without a range, walked in time windows, give every row in order (both dialects).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { sql, type Kysely } from 'kysely';
import { dialectSkip, startGateway, TestClock, type Gateway } from './support/gateway.ts';
import { testPostgresUrl } from './support/services.ts';
import { openDb, type Db } from '../src/db/connection.ts';
import { migrate } from '../src/db/migrate.ts';
import type { Database } from '../src/db/types.ts';
import { LogPartitionKeeper, listPartitions } from '../src/usage/log-partitions.ts';
import { LogRetention } from '../src/usage/log-retention.ts';
import { logQuery } from '../src/usage/logs.repository.ts';

const DAY = 86_400_000;
const HISTORY = ['spend_rollups', 'org_day_rollups', 'usage_rollups', 'key_spend'];

/** The leaf table holding each row, by request id. */
async function placement(db: Kysely<Database>): Promise<Map<string, string>> {
  const r = await sql<{ request_id: string; part: string }>`select request_id, tableoid::regclass::text as part from request_logs`.execute(db);
  return new Map(r.rows.map((x) => [x.request_id, x.part]));
}
const partitionNames = async (db: Kysely<Database>) => (await listPartitions(db)).map((p) => p.name);
const tableExists = async (db: Kysely<Database>, name: string) => (await sql`select 1 from pg_class where relname = ${name}`.execute(db)).rows.length > 0;

describe('request log partitions (postgres)', { skip: dialectSkip('postgres') }, () => {
  let gw: Gateway;
  const clock = new TestClock(Date.parse('2026-03-28T12:00:00Z'));
  let teamId: number;
  let key: { id: number; user_id: number | null };
  const at: Record<string, string> = {};

  const enqueue = (createdAt: string) => {
    // The single-request view reads UUIDs only (what the hot path gives a request).
    const requestId = randomUUID();
    at[requestId] = createdAt;
    gw.runtime.deps.logWriter.enqueue({
      request_id: requestId, created_at: createdAt, org_id: gw.runtime.deps.defaultOrgId, team_id: teamId, user_id: key.user_id, key_id: key.id, endpoint: 'chat/completions',
      model: 'gpt-4o', provider: 'openai', status_code: 200, error_code: null, streamed: 0, tokens_in: 100, tokens_out: 20, cost_micro: 1234, unpriced: 0, usage_estimated: 0,
      latency_ms: 50, client_ip: '127.0.0.1', upstream_ms: 40, ttfb_ms: 10,
    });
    return requestId;
  };
  const db = () => gw.runtime.deps.db.kysely;

  async function history(): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const table of HISTORY) {
      const rows = (await sql`select * from ${sql.table(table)}`.execute(db())).rows;
      out[table] = rows.map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? Number(v) : v))).sort();
    }
    return out;
  }

  before(async () => {
    gw = await startGateway({ dialect: 'postgres', clock, env: { TOLLGATE_LOG_RETENTION_DAYS: '30' } });
    teamId = (await gw.api('POST', '/api/teams', { name: 'Parted' })).body.id;
    key = (await gw.api('POST', `/api/teams/${teamId}/keys`, { name: 'k' })).body;
  });
  after(() => gw?.close());

  test('a new database has request_logs partitioned by created_at, a DEFAULT partition and today + 7 days', async () => {
    const kind = await sql<{ relkind: string; key: string }>`select c.relkind, pg_get_partkeydef(c.oid) as key from pg_class c where c.relname = 'request_logs'`.execute(db());
    assert.deepEqual(kind.rows[0], { relkind: 'p', key: 'RANGE (created_at)' });
    const parts = await listPartitions(db());
    assert.deepEqual(parts.filter((p) => !p.isDefault).map((p) => [p.name, p.from, p.to]), [
      ['request_logs_p20260328', '2026-03-28T00:00:00.000Z', '2026-03-29T00:00:00.000Z'],
      ['request_logs_p20260329', '2026-03-29T00:00:00.000Z', '2026-03-30T00:00:00.000Z'],
      ['request_logs_p20260330', '2026-03-30T00:00:00.000Z', '2026-03-31T00:00:00.000Z'],
      ['request_logs_p20260331', '2026-03-31T00:00:00.000Z', '2026-04-01T00:00:00.000Z'],
      ['request_logs_p20260401', '2026-04-01T00:00:00.000Z', '2026-04-02T00:00:00.000Z'],
      ['request_logs_p20260402', '2026-04-02T00:00:00.000Z', '2026-04-03T00:00:00.000Z'],
      ['request_logs_p20260403', '2026-04-03T00:00:00.000Z', '2026-04-04T00:00:00.000Z'],
      ['request_logs_p20260404', '2026-04-04T00:00:00.000Z', '2026-04-05T00:00:00.000Z'],
    ]);
    assert.deepEqual(parts.filter((p) => p.isDefault).map((p) => p.name), ['request_logs_default']);
    assert.equal(await tableExists(db(), 'request_logs_legacy'), false, 'an empty table is replaced, not kept as a partition');
    // Running it again creates nothing.
    assert.deepEqual((await gw.runtime.partitions.tick()).created, []);
  });

  test('rows from the log writer land in their day; a day with no partition goes to DEFAULT, is readable, and moves to its day when the keeper creates it', async () => {
    for (let d = 0; d < 8; d++) {
      const day = new Date(Date.parse('2026-03-28T00:00:00Z') + d * DAY).toISOString().slice(0, 10);
      enqueue(`${day}T01:00:00.000Z`);
      enqueue(`${day}T23:59:59.999Z`);
    }
    const early = enqueue('2026-02-15T10:00:00.000Z');
    const late = enqueue('2026-05-01T08:00:00.000Z');
    await gw.flush();

    const where = await placement(db());
    assert.equal(where.size, 18, 'no row lost');
    for (const [requestId, part] of where) {
      const expected = requestId === early || requestId === late ? 'request_logs_default' : `request_logs_p${at[requestId]!.slice(0, 10).replaceAll('-', '')}`;
      assert.equal(part, expected, `${requestId} at ${at[requestId]}`);
    }
    const lateView = await gw.api('GET', `/api/logs/${late}`);
    assert.equal(lateView.status, 200, 'a row in DEFAULT is read like any other');
    const lateId = lateView.body.id;

    const kept = await gw.runtime.partitions.tick();
    assert.deepEqual(kept.created, ['request_logs_p20260215', 'request_logs_p20260501']);
    assert.equal(kept.moved, 2);
    const after = await placement(db());
    assert.equal(after.get(early), 'request_logs_p20260215');
    assert.equal(after.get(late), 'request_logs_p20260501');
    assert.equal(Number((await sql<{ n: string }>`select count(*) as n from request_logs_default`.execute(db())).rows[0]!.n), 0);
    const moved = await gw.api('GET', `/api/logs/${late}`);
    assert.equal(moved.status, 200);
    assert.equal(moved.body.id, lateId, 'a moved row keeps its id');
  });

  test('keepers on several replicas at once: none fails, each day is created once', async () => {
    clock.advance(10 * DAY); // 2026-04-07: 2026-04-05 … 2026-04-14 are missing
    const url = gw.runtime.deps.config.databaseUrl;
    const others: Db[] = [openDb(url), openDb(url), openDb(url)];
    try {
      const keepers = [gw.runtime.partitions, ...others.map((o) => new LogPartitionKeeper(o, clock))];
      const results = await Promise.all(keepers.map((k) => k.tick()));
      const created = results.flatMap((r) => r.created).sort();
      assert.ok(created.length > 0 && new Set(created).size === created.length, `created once each: ${created.join(', ')}`);
      const names = await partitionNames(db());
      for (let d = 0; d <= 7; d++) {
        const day = new Date(clock.now() + d * DAY).toISOString().slice(0, 10).replaceAll('-', '');
        assert.ok(names.includes(`request_logs_p${day}`), `day ${day} exists`);
      }
      // Whatever a racing run left (it found the lock taken), the next runs finish without error.
      await Promise.all(keepers.map((k) => k.tick()));
      assert.deepEqual((await gw.runtime.partitions.tick()).created, []);
    } finally {
      await Promise.all(others.map((o) => o.close()));
    }
  });

  test('creating partitions does not wait for log writes in progress (nor make them wait)', async () => {
    clock.advance(3 * DAY); // 3 days to create
    const writer = new pg.Client({ connectionString: gw.runtime.deps.config.databaseUrl });
    await writer.connect();
    try {
      // A log batch whose transaction is still open: it holds its lock on request_logs.
      await writer.query('begin');
      await writer.query(`insert into request_logs (request_id, created_at, org_id, key_id, endpoint, model, status_code) values ($1, $2, $3, $4, 'chat/completions', 'm', 200)`, [randomUUID(), new Date(clock.now()).toISOString(), gw.runtime.deps.defaultOrgId, key.id]);
      const started = performance.now();
      const r = await gw.runtime.partitions.tick();
      assert.equal(r.created.length, 3);
      assert.ok(performance.now() - started < 2_000, 'no wait for the lock (its timeout is 3 s)');
      await writer.query('rollback');
    } finally {
      await writer.end();
    }
  });

  test('a listing bounded in time reads only its days\' partitions, each through an index', async () => {
    const q = logQuery(db(), { orgId: gw.runtime.deps.defaultOrgId, from: '2026-03-30T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z' }, {}, undefined, 50).compile();
    // Tiny tables are cheaper to scan whole; what matters is that the indexes can serve the walk.
    const plan = await db().transaction().execute(async (trx) => {
      await sql`set local enable_seqscan = off`.execute(trx);
      const r = await trx.executeQuery<{ 'QUERY PLAN': string }>({ ...q, sql: `explain ${q.sql}` });
      return r.rows.map((x) => x['QUERY PLAN']).join('\n');
    });
    const read = [...plan.matchAll(/on (request_logs_\w+)/g)].map((m) => m[1]!);
    assert.deepEqual([...new Set(read)].sort(), ['request_logs_p20260330', 'request_logs_p20260331'], plan);
    assert.match(plan, /Index (Only )?Scan( Backward)? using request_logs_p20260331_org_id_created_at_id_idx/, plan);
    assert.doesNotMatch(plan, /Sort\b|Seq Scan/, plan);
  });

  test('retention drops whole partitions past the cutoff; rollups, spend and newer logs are unchanged', async () => {
    // A row with no partition, already past the cutoff: deleted from DEFAULT row by row.
    const stray = enqueue('2026-01-10T00:00:00.000Z');
    await gw.flush();
    assert.equal((await placement(db())).get(stray), 'request_logs_default');
    clock.set('2026-05-03T12:00:00Z');
    const spendBefore = (await gw.api('GET', `/api/teams/${teamId}/spend`)).body;
    const historyBefore = await history();
    assert.equal(spendBefore.total.requests, 19);

    const cutoff = '2026-04-03T12:00:00.000Z';
    const before = await partitionNames(db());
    const gone = before.filter((n) => /^request_logs_p\d{8}$/.test(n) && n < 'request_logs_p20260403');
    assert.deepEqual(gone, ['request_logs_p20260215', 'request_logs_p20260328', 'request_logs_p20260329', 'request_logs_p20260330', 'request_logs_p20260331', 'request_logs_p20260401', 'request_logs_p20260402']);

    const r = await gw.runtime.retention.tick();
    assert.equal(r.cutoff, cutoff);
    assert.equal(r.partitionsDropped, gone.length);
    assert.equal(r.pruned, 1, 'the DEFAULT row past the cutoff, deleted in a batch');
    const inherits = await sql<{ name: string }>`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'request_logs'::regclass`.execute(db());
    for (const name of gone) {
      assert.ok(!inherits.rows.some((x) => x.name === name), `${name} is no partition any more`);
      assert.equal(await tableExists(db(), name), false, `${name} is dropped`);
    }
    assert.ok(inherits.rows.some((x) => x.name === 'request_logs_p20260403'), 'the day the cutoff falls in is kept whole (dropped the next day)');

    assert.deepEqual(await history(), historyBefore, 'the rollups are not pruned');
    assert.deepEqual((await gw.api('GET', `/api/teams/${teamId}/spend`)).body, spendBefore);
    const listed = (await gw.api('GET', '/api/logs?limit=200')).body.data as Array<{ request_id: string; created_at: string }>;
    assert.deepEqual(listed.map((l) => l.created_at).sort(), ['2026-04-03T01:00:00.000Z', '2026-04-03T23:59:59.999Z', '2026-04-04T01:00:00.000Z', '2026-04-04T23:59:59.999Z', '2026-05-01T08:00:00.000Z']);
    const again = await gw.runtime.retention.tick();
    assert.deepEqual([again.partitionsDropped, again.pruned], [0, 0]);
  });
});

describe('converting an existing request_logs (postgres)', { skip: dialectSkip('postgres') }, () => {
  const row = (id: string, createdAt: string, orgId: number) => ({
    request_id: id, created_at: createdAt, org_id: orgId, team_id: null, user_id: null, key_id: 1, endpoint: 'chat/completions', model: 'gpt-4o', provider: 'openai',
    status_code: 200, error_code: null, streamed: 0, tokens_in: 1, tokens_out: 2, cost_micro: 3, unpriced: 0, usage_estimated: 0, latency_ms: 4, client_ip: null,
  });
  const now = Date.now();
  const tomorrow = new Date(Math.floor(now / DAY) * DAY + DAY).toISOString();

  async function seeded(): Promise<{ db: Db; ids: number[] }> {
    const db = openDb((await testPostgresUrl())!);
    await migrate(db, '0024_provisioned_keys');
    const stamp = new Date(now).toISOString();
    const org = await db.kysely.insertInto('organizations').values({ name: 'O', slug: `o-${randomUUID()}`, created_at: stamp, updated_at: stamp }).returning('id').executeTakeFirstOrThrow();
    const rows = [row('old', '2026-01-05T10:00:00.000Z', org.id), row('recent', new Date(now - 3_600_000).toISOString(), org.id), row('now', stamp, org.id)];
    const ids = (await db.kysely.insertInto('request_logs').values(rows).returning('id').execute()).map((r) => Number(r.id));
    return { db, ids };
  }

  test('rows stay readable under their ids, new ids continue, the legacy partition is pruned row by row then dropped', async () => {
    const { db, ids } = await seeded();
    try {
      // The conversion runs first of what is left (later migrations follow it).
      assert.equal((await migrate(db))[0], '0025_request_log_partitions');
      const parts = await listPartitions(db.kysely);
      assert.deepEqual(parts.map((p) => [p.name, p.from, p.to, p.isDefault]), [['request_logs_default', null, null, true], ['request_logs_legacy', null, tomorrow, false]]);
      const read = await db.kysely.selectFrom('request_logs').select(['id', 'request_id']).orderBy('id').execute();
      assert.deepEqual(read.map((r) => [Number(r.id), r.request_id]), [[ids[0], 'old'], [ids[1], 'recent'], [ids[2], 'now']]);
      assert.equal((await db.kysely.selectFrom('request_logs').select('id').where('request_id', '=', 'recent').executeTakeFirstOrThrow()).id, read[1]!.id);

      const org = (await db.kysely.selectFrom('organizations').select('id').executeTakeFirstOrThrow()).id;
      const next = await db.kysely.insertInto('request_logs').values(row('after', new Date(now).toISOString(), org)).returning('id').executeTakeFirstOrThrow();
      assert.equal(Number(next.id), ids[2]! + 1, 'the id sequence continues');
      assert.equal((await placement(db.kysely)).get('after'), 'request_logs_legacy', 'today is still the legacy partition\'s');

      // The keeper starts the day partitions where the legacy one ends.
      const clock = new TestClock(now);
      const kept = await new LogPartitionKeeper(db, clock).tick();
      assert.equal(kept.created[0], `request_logs_p${tomorrow.slice(0, 10).replaceAll('-', '')}`);
      assert.equal(kept.created.length, 7);

      // A cutoff inside the legacy range: its old rows are deleted in batches.
      const retention = new LogRetention(db, clock, { days: 30, pauseMs: 1 });
      const first = await retention.tick();
      assert.deepEqual([first.pruned, first.partitionsDropped], [Date.parse('2026-01-05T10:00:00.000Z') < now - 30 * DAY ? 1 : 0, 0]);
      // Once its whole range is past the cutoff, it is dropped; the sequence stays.
      clock.set(new Date(Date.parse(tomorrow) + 30 * DAY).toISOString());
      const second = await retention.tick();
      assert.equal(second.partitionsDropped, 1);
      assert.equal(await tableExists(db.kysely, 'request_logs_legacy'), false);
      const last = await db.kysely.insertInto('request_logs').values(row('last', new Date(now + 2 * DAY).toISOString(), org)).returning('id').executeTakeFirstOrThrow();
      assert.equal(Number(last.id), ids[2]! + 2);
    } finally {
      await db.close();
    }
  });

  test('a cut-over check and key index the operator prepared beforehand are used as they are', async () => {
    const { db } = await seeded();
    try {
      const bound = new Date(Math.floor(now / DAY) * DAY + 3 * DAY).toISOString();
      await sql`alter table request_logs add constraint request_logs_cutover check (created_at < ${sql.lit(bound)}) not valid`.execute(db.kysely);
      await sql`alter table request_logs validate constraint request_logs_cutover`.execute(db.kysely);
      await sql`create unique index concurrently request_logs_id_created_at_key on request_logs (id, created_at)`.execute(db.kysely);
      await migrate(db);
      const legacy = (await listPartitions(db.kysely)).find((p) => p.name === 'request_logs_legacy');
      assert.deepEqual([legacy?.from, legacy?.to], [null, bound]);
      assert.equal(Number((await db.kysely.selectFrom('request_logs').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n), 3);
    } finally {
      await db.close();
    }
  });
});

describe('request logs on SQLite', () => {
  test('one table, no partition keeper; retention still deletes in batches', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tollgate-parts-'));
    const db = openDb(`sqlite:${path.join(dir, 't.db')}`);
    try {
      await migrate(db);
      const clock = new TestClock(Date.parse('2026-03-28T12:00:00Z'));
      assert.equal(new LogPartitionKeeper(db, clock).enabled, false);
      const stamp = new Date(clock.now()).toISOString();
      const org = await db.kysely.insertInto('organizations').values({ name: 'O', slug: 'o', created_at: stamp, updated_at: stamp }).returning('id').executeTakeFirstOrThrow();
      const rows = Array.from({ length: 25 }, (_, i) => ({
        request_id: `r${i}`, created_at: new Date(clock.now() - (i + 1) * DAY).toISOString(), org_id: org.id, team_id: null, user_id: null, key_id: 1, endpoint: 'chat/completions', model: 'm',
        provider: 'openai', status_code: 200, error_code: null, streamed: 0, tokens_in: 1, tokens_out: 1, cost_micro: 1, unpriced: 0, usage_estimated: 0, latency_ms: 1, client_ip: null,
      }));
      await db.kysely.insertInto('request_logs').values(rows).execute();
      const r = await new LogRetention(db, clock, { days: 10, batchSize: 4, pauseMs: 1 }).tick();
      assert.deepEqual([r.pruned, r.batches, r.partitionsDropped], [15, 4, 0]);
      const left = await db.kysely.selectFrom('request_logs').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(left.n), 10);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Listings without a range are walked in time windows back from now (the last day, week, month,
// then the rest: logs.repository.ts), so on PostgreSQL they read only the recent days' partitions
// when those fill the page. Whatever the windows, the rows and their order are the unbounded walk's.
for (const dialect of ['sqlite', 'postgres'] as const) describe(`listings walked in time windows (${dialect})`, { skip: dialectSkip(dialect) }, () => {
  test('every row, newest first, through pages that cross the windows; the single view finds old and new requests', async () => {
    const gw = await startGateway({ dialect });
    try {
      const teamId = (await gw.api('POST', '/api/teams', { name: 'Windows' })).body.id;
      const key = (await gw.api('POST', `/api/teams/${teamId}/keys`, { name: 'w' })).body;
      // With `to`, the windows go back from it: rows on each side of each window's edge (1, 7, 30
      // days before it), two at one instant, one at `to` and one after it (both outside). Without
      // it they go back from now, which is an hour or two before `to`.
      const top = Date.now() + 2 * 3_600_000;
      const to = new Date(top).toISOString();
      const offsets = [-3_600_000, 0, 1, 3_600_000, 3 * 3_600_000, DAY - 1, DAY, DAY + 1, 3 * DAY, 7 * DAY - 1, 7 * DAY, 7 * DAY, 7 * DAY + 1, 20 * DAY, 30 * DAY - 1, 30 * DAY, 30 * DAY + 1, 100 * DAY, 400 * DAY];
      const stamps = offsets.map((o) => new Date(top - o).toISOString());
      const ids: string[] = [];
      for (const createdAt of stamps) {
        const requestId = randomUUID();
        ids.push(requestId);
        gw.runtime.deps.logWriter.enqueue({
          request_id: requestId, created_at: createdAt, org_id: gw.runtime.deps.defaultOrgId, team_id: teamId, user_id: key.user_id, key_id: key.id, endpoint: 'chat/completions',
          model: 'gpt-4o', provider: 'openai', status_code: 200, error_code: null, streamed: 0, tokens_in: 1, tokens_out: 1, cost_micro: 1, unpriced: 0, usage_estimated: 0,
          latency_ms: 5, client_ip: '127.0.0.1', upstream_ms: 4, ttfb_ms: 1,
        });
      }
      await gw.flush();
      for (const [range, limit] of [['', 1], ['', 2], ['', 5], ['', 50], [`&to=${to}`, 1], [`&to=${to}`, 2], [`&to=${to}`, 3], [`&to=${to}`, 50]] as const) {
        const expected = stamps.filter((at) => !range || at < to).sort().reverse();
        const seen: Array<{ created_at: string; id: number }> = [];
        let cursor: string | null = null;
        do {
          const res: { status: number; body: any } = await gw.api('GET', `/api/logs?key_id=${key.id}&limit=${limit}${range}${cursor ? `&cursor=${cursor}` : ''}`);
          assert.equal(res.status, 200);
          seen.push(...res.body.data);
          cursor = res.body.next_cursor;
        } while (cursor);
        assert.deepEqual(seen.map((r) => r.created_at), expected, `pages of ${limit}${range}`);
        assert.equal(new Set(seen.map((r) => r.id)).size, seen.length, 'no row twice');
      }
      for (const requestId of [ids[0]!, ids.at(-1)!]) assert.equal((await gw.api('GET', `/api/logs/${requestId}`)).body.request_id, requestId);
    } finally {
      await gw.close();
    }
  });
});
