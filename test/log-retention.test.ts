// Request log retention (TOLLGATE_LOG_RETENTION_DAYS) on both dialects, with the test clock: rows
// older than N days go, in bounded batches; the spend rollups and the spend summary are exactly
// what they were (spend history survives pruning); on PostgreSQL a replica finding another one
// pruning (the advisory lock taken) leaves the run to it.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { sql } from 'kysely';
import { DIALECTS, dialectSkip, startGateway, TestClock, type Gateway } from './support/gateway.ts';
import { LogRetention } from '../src/usage/log-retention.ts';
import { loadConfig } from '../src/config.ts';

const DAY = 86_400_000;
/** Tables that hold spend history (those present in this schema are compared). */
const HISTORY = ['spend_rollups', 'org_day_rollups', 'key_spend', 'usage_minutes', 'usage_daily', 'usage_hourly'];

for (const dialect of DIALECTS) describe(`request log retention (${dialect})`, { skip: dialectSkip(dialect) }, () => {
  let gw: Gateway;
  const clock = new TestClock(Date.parse('2026-03-28T12:00:00Z'));
  let teamId: number;
  const created: string[] = [];

  before(async () => {
    gw = await startGateway({ dialect, clock, env: { TOLLGATE_LOG_RETENTION_DAYS: '30' } });
    teamId = (await gw.api('POST', '/api/teams', { name: 'Kept' })).body.id;
    const key = (await gw.api('POST', `/api/teams/${teamId}/keys`, { name: 'k' })).body;
    // 3 rows a day over the last 100 days (priced, so the rollups carry money).
    for (let d = 100; d >= 1; d--) {
      for (let i = 0; i < 3; i++) {
        const at = new Date(clock.now() - d * DAY + i * 3_600_000).toISOString();
        created.push(at);
        gw.runtime.deps.logWriter.enqueue({
          request_id: randomUUID(), created_at: at, org_id: gw.runtime.deps.defaultOrgId, team_id: teamId, user_id: key.user_id, key_id: key.id, endpoint: 'chat/completions',
          model: 'gpt-4o', provider: 'openai', status_code: 200, error_code: null, streamed: 0, tokens_in: 100, tokens_out: 20, cost_micro: 1234, unpriced: 0, usage_estimated: 0,
          latency_ms: 50, client_ip: '127.0.0.1', upstream_ms: 40, ttfb_ms: 10,
        });
      }
    }
    await gw.flush();
  });
  after(() => gw?.close());

  const logCount = async () => Number((await gw.runtime.deps.db.kysely.selectFrom('request_logs').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const oldest = async () => (await gw.runtime.deps.db.kysely.selectFrom('request_logs').select('created_at').orderBy('created_at').limit(1).executeTakeFirst())?.created_at;

  async function history(): Promise<Record<string, unknown[]>> {
    const db = gw.runtime.deps.db.kysely;
    const out: Record<string, unknown[]> = {};
    for (const table of HISTORY) {
      const exists = dialect === 'sqlite'
        ? await sql`select 1 from sqlite_master where type = 'table' and name = ${table}`.execute(db)
        : await sql`select 1 from information_schema.tables where table_name = ${table} and table_schema = current_schema()`.execute(db);
      if (!exists.rows.length) continue;
      const rows = (await sql`select * from ${sql.table(table)}`.execute(db)).rows.map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)));
      out[table] = rows.sort();
    }
    return out;
  }

  test('TOLLGATE_LOG_RETENTION_DAYS: 0 (the default) keeps everything', () => {
    assert.equal(loadConfig({}).logRetentionDays, 0);
    assert.equal(new LogRetention(gw.runtime.deps.db, clock, { days: 0 }).enabled, false);
    assert.equal(gw.runtime.retention.enabled, true, 'set to 30 for this gateway');
  });

  test('rows older than N days are deleted in bounded batches; rollups and spend are untouched', async () => {
    const spendBefore = (await gw.api('GET', `/api/teams/${teamId}/spend`)).body;
    const historyBefore = await history();
    assert.ok(historyBefore.spend_rollups!.length >= 100, 'the rollups hold 100 days');
    const cutoff = new Date(clock.now() - 30 * DAY).toISOString();
    const old = created.filter((at) => at < cutoff).length;
    assert.equal(old, 210);

    const retention = new LogRetention(gw.runtime.deps.db, clock, { days: 30, batchSize: 40, pauseMs: 1 });
    const r = await retention.tick();
    assert.equal(r.cutoff, cutoff);
    assert.equal(r.pruned, old);
    assert.equal(r.batches, Math.ceil((old + 1) / 40), 'batches of at most 40, the last one short');
    // On PostgreSQL these rows predate every day partition (the keeper starts at the clock's
    // today): they sit in DEFAULT, which is pruned row by row like SQLite's table
    // (log-partitions.test.ts covers dropping whole days).
    assert.equal(r.partitionsDropped, 0);
    assert.equal(retention.prunedTotal, old);
    assert.equal(await logCount(), created.length - old);
    assert.ok((await oldest())! >= cutoff);

    assert.deepEqual(await history(), historyBefore, 'spend history is not derived from, nor pruned with, the logs');
    assert.deepEqual((await gw.api('GET', `/api/teams/${teamId}/spend`)).body, spendBefore);
    assert.equal(spendBefore.total.requests, 300);

    // Nothing more to prune until time passes; then the next 10 days go.
    assert.equal((await retention.tick()).pruned, 0);
    clock.advance(10 * DAY);
    assert.equal((await gw.runtime.retention.tick()).pruned, 30);
    assert.equal(await logCount(), created.length - old - 30);
    assert.deepEqual(await history(), historyBefore);
    const listed = (await gw.api('GET', '/api/logs?limit=200')).body.data;
    assert.equal(listed.length, 60);
  });

  if (dialect === 'postgres') {
    test('one replica prunes at a time: a run finding the lock taken leaves it to the holder', async () => {
      clock.advance(5 * DAY);
      const holder = new pg.Client({ connectionString: gw.runtime.deps.config.databaseUrl });
      await holder.connect();
      try {
        await holder.query('begin');
        await holder.query('select pg_advisory_xact_lock($1)', [0x746c7274]);
        const blocked = await gw.runtime.retention.tick();
        assert.equal(blocked.skipped, 'locked');
        assert.equal(blocked.pruned, 0);
        await holder.query('commit');
      } finally {
        await holder.end();
      }
      assert.equal((await gw.runtime.retention.tick()).pruned, 15);
    });
  }
});
