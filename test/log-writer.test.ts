import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openDb } from '../src/db/connection.ts';
import { migrate } from '../src/db/migrate.ts';
import { LogWriter, type LogRow } from '../src/usage/log-writer.ts';
import { logSinkFor } from '../src/usage/log-sinks.ts';

const row = (i: number, over: Partial<LogRow> = {}): LogRow => ({
  request_id: `r${i}`, created_at: i % 2 ? '2026-03-28T10:00:00.000Z' : '2026-03-29T10:00:00.000Z', org_id: 1, team_id: 7, user_id: 1, key_id: 1 + (i % 3),
  endpoint: 'chat/completions', model: 'gpt-4o', provider: 'openai', status_code: 200, error_code: null, streamed: 0,
  tokens_in: 10, tokens_out: 5, cost_micro: 75, unpriced: 0, usage_estimated: 0, latency_ms: 3, client_ip: '127.0.0.1', ...over,
});

async function setup() {
  const db = openDb('sqlite::memory:');
  await migrate(db);
  await db.kysely.insertInto('organizations').values({ name: 'o', slug: 'o', created_at: 'x', updated_at: 'x' }).execute();
  return db;
}

test('batches log rows and rolls them up per day × key × model in the same transaction', async () => {
  const db = await setup();
  const w = new LogWriter(logSinkFor(db), { flushMs: 1000, batchSize: 250, queueMax: 10_000 });
  for (let i = 0; i < 1200; i++) w.enqueue(row(i));
  w.enqueue(row(9999, { provider: null, status_code: 429, error_code: 'rate_limit_exceeded', tokens_in: 0, tokens_out: 0, cost_micro: null }));
  assert.equal(w.pending, 1201, 'enqueue never writes synchronously');
  await w.flush();
  assert.equal(w.pending, 0);
  const logs = await db.kysely.selectFrom('request_logs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  assert.equal(Number(logs.n), 1201);
  const rollups = await db.kysely.selectFrom('spend_rollups').selectAll().orderBy('day').orderBy('key_id').execute();
  assert.equal(rollups.length, 6, '2 days × 3 keys');
  assert.equal(rollups.reduce((s, r) => s + r.requests, 0), 1200, 'a request Tollgate denied itself is logged but is not spend');
  assert.equal(rollups.reduce((s, r) => s + r.cost_micro, 0), 1200 * 75);
  await db.close();
});

test('a failed flush keeps the rows and retries without loss or double counting', async () => {
  const db = await setup();
  const errors: unknown[] = [];
  const w = new LogWriter(logSinkFor(db), { flushMs: 1000, batchSize: 100, queueMax: 10_000, onError: (e) => errors.push(e) });
  for (let i = 0; i < 30; i++) w.enqueue(row(i));
  await sql`alter table spend_rollups rename to spend_rollups_away`.execute(db.kysely);
  await assert.rejects(w.flush());
  assert.equal(errors.length, 1);
  assert.equal(w.pending, 30, 'nothing lost');
  const none = await db.kysely.selectFrom('request_logs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  assert.equal(Number(none.n), 0, 'logs and rollups are written together or not at all');
  await sql`alter table spend_rollups_away rename to spend_rollups`.execute(db.kysely);
  await w.flush();
  const rollups = await db.kysely.selectFrom('spend_rollups').select((eb) => eb.fn.sum<number>('requests').as('n')).executeTakeFirstOrThrow();
  assert.equal(Number(rollups.n), 30);
  await db.close();
});

test('the queue is bounded while the database is down', async () => {
  const db = await setup();
  const w = new LogWriter(logSinkFor(db), { flushMs: 1000, batchSize: 100, queueMax: 10 });
  for (let i = 0; i < 15; i++) w.enqueue(row(i));
  assert.equal(w.pending, 10);
  assert.equal(w.dropped, 5);
  await w.stop();
  assert.equal(w.pending, 0);
  await db.close();
});

test('rows queued (and dropped at the cap) while a slow batch is written are neither lost twice nor written twice', async () => {
  const written: string[] = [];
  const slow = { write: async (rows: LogRow[]) => { await new Promise((r) => setTimeout(r, 20)); written.push(...rows.map((r) => r.request_id)); } };
  const w = new LogWriter(slow, { flushMs: 1000, batchSize: 5, queueMax: 8 });
  for (let i = 0; i < 8; i++) w.enqueue(row(i));
  const flushing = w.flush();
  await new Promise((r) => setTimeout(r, 5));
  for (let i = 8; i < 14; i++) w.enqueue(row(i)); // queue is full: each enqueue drops the oldest
  await flushing;
  await w.flush();
  assert.equal(new Set(written).size, written.length, 'no row written twice');
  assert.deepEqual(written.slice(0, 5), ['r0', 'r1', 'r2', 'r3', 'r4'], 'the first batch was in flight and is written');
  assert.ok(written.includes('r13'), 'the newest rows survive');
  assert.equal(w.pending, 0);
  assert.equal(written.length + w.dropped >= 14, true);
});

test('a flush that comes while an admin transaction is open on the SQLite connection is not rolled back with it', async () => {
  const db = await setup();
  const sink = logSinkFor(db);
  let written: Promise<void> | undefined;
  await assert.rejects(db.kysely.transaction().execute(async (trx) => {
    await trx.selectFrom('settings').selectAll().execute();
    // A log flush timer firing between two of the transaction's queries.
    written = sink.write([row(1)], [], new Map());
    await trx.selectFrom('settings').selectAll().execute();
    throw new Error('the admin change fails and rolls back');
  }), /rolls back/);
  await written;
  const logs = await db.kysely.selectFrom('request_logs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  assert.equal(Number(logs.n), 1, 'the log row survived the rollback');
  await db.close();
});
