// The request log journal (src/usage/journal.ts): rows appended when enqueued, replayed exactly
// once after the process dies, deleted once committed, bounded while the database is down, and
// held by one process at a time. Replay runs on both dialects.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openDb, type Db } from '../src/db/connection.ts';
import { migrate } from '../src/db/migrate.ts';
import { Journal, JournalLockedError, decodeSegment } from '../src/usage/journal.ts';
import { replayJournal } from '../src/usage/journal-replay.ts';
import { LOG_COLUMNS, logSinkFor } from '../src/usage/log-sinks.ts';
import { LogWriter, type LogRow } from '../src/usage/log-writer.ts';
import { DIALECTS, dialectSkip } from './support/gateway.ts';
import { freePort, testPostgresUrl } from './support/services.ts';

const row = (i: number, over: Partial<LogRow> = {}): LogRow => ({
  request_id: `req-${i}`, created_at: '2026-03-28T10:00:00.000Z', org_id: 1, team_id: 7, user_id: 3, key_id: 1 + (i % 2),
  endpoint: 'chat/completions', model: 'gpt-4o', provider: 'openai', status_code: 200, error_code: null, streamed: 0,
  tokens_in: 10, tokens_out: 5, cost_micro: 75, unpriced: 0, usage_estimated: 0, latency_ms: 3, client_ip: '127.0.0.1',
  cached_tokens: 4, reasoning_tokens: 2, upstream_ms: 2, ttfb_ms: 1, ...over,
});

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'tollgate-journal-'));
const segments = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.jsonl'));

async function openFor(dialect: 'sqlite' | 'postgres', dir: string): Promise<Db> {
  const db = openDb(dialect === 'sqlite' ? `sqlite:${path.join(dir, 't.db')}` : (await testPostgresUrl())!);
  await migrate(db);
  return db;
}

async function counts(db: Db) {
  const logs = await db.kysely.selectFrom('request_logs').select([sql<number>`count(*)`.as('n'), sql<number>`count(distinct request_id)`.as('distinct'), sql<number>`coalesce(sum(cost_micro), 0)`.as('cost')]).executeTakeFirstOrThrow();
  const roll = await db.kysely.selectFrom('spend_rollups').select([sql<number>`coalesce(sum(requests), 0)`.as('n'), sql<number>`coalesce(sum(cost_micro), 0)`.as('cost')]).executeTakeFirstOrThrow();
  const org = await db.kysely.selectFrom('org_day_rollups').select(sql<number>`coalesce(sum(cost_micro), 0)`.as('cost')).executeTakeFirstOrThrow();
  return { logs: Number(logs.n), distinct: Number(logs.distinct), logCost: Number(logs.cost), rolled: Number(roll.n), rollCost: Number(roll.cost), orgCost: Number(org.cost) };
}

/** A writer with a journal, as the runtime builds it (replay first, then the writer from the next seq). */
async function journaled(db: Db, dir: string, extra: { queueMax?: number; batchSize?: number; segmentBytes?: number; maxBytes?: number } = {}) {
  const journal = new Journal({ dir, fsyncMs: 0, maxBytes: extra.maxBytes ?? 1 << 30, ...(extra.segmentBytes ? { segmentBytes: extra.segmentBytes } : {}) });
  const sink = logSinkFor(db, { usageMinutes: true });
  const replay = await replayJournal(journal, sink, db.kysely, extra.batchSize ?? 100);
  const writer = new LogWriter(sink, { flushMs: 1e9, batchSize: extra.batchSize ?? 100, queueMax: extra.queueMax ?? 10_000, journal, firstSeq: replay.nextSeq });
  return { journal, writer, replay };
}

test('a journal line holds the row values in LOG_COLUMNS order, and decodes back to the same row', () => {
  const dir = tmp();
  try {
    const j = new Journal({ dir, fsyncMs: 0, maxBytes: 1 << 20 });
    j.start(41);
    const r = row(1, { model: 'weird "model"\nname', error_code: 'x', cost_micro: null, team_id: null });
    j.append(41, r);
    const text = readFileSync(path.join(dir, segments(dir)[0]!), 'utf8');
    assert.equal(text.split('\n').length, 2, 'one line per row, even with a newline in a value');
    const values = JSON.parse(text) as unknown[];
    assert.deepEqual(values, [41, ...LOG_COLUMNS.map((c) => r[c] ?? null)]);
    const decoded = decodeSegment(text);
    assert.equal(decoded.bad, 0);
    assert.deepEqual(decoded.rows, [{ seq: 41, row: Object.fromEntries(LOG_COLUMNS.map((c) => [c, r[c] ?? null])) }]);
    j.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a journal line written before migration 0014 (19 values) still decodes, the new columns at their defaults', () => {
  const old = JSON.stringify([7, 'req-old', '2026-03-28T10:00:00.000Z', 1, 7, 3, 1, 'chat/completions', 'gpt-4o', 'openai', 200, null, 0, 10, 5, 75, 0, 0, 3, '127.0.0.1']) + '\n';
  const decoded = decodeSegment(old);
  assert.equal(decoded.bad, 0);
  assert.equal(decoded.rows.length, 1);
  const r = decoded.rows[0]!.row;
  assert.equal(r.request_id, 'req-old');
  assert.equal(r.client_ip, '127.0.0.1');
  assert.deepEqual([r.cached_tokens, r.reasoning_tokens, r.upstream_ms, r.ttfb_ms], [0, 0, null, null]);
  assert.equal(decodeSegment(JSON.stringify([7, 'too', 'short']) + '\n').bad, 1, 'other lengths are still refused');
});

test('a second process (or journal) on the same directory is refused; the lock goes with its holder', () => {
  const dir = tmp();
  try {
    const first = new Journal({ dir, fsyncMs: 0, maxBytes: 1 << 20 });
    assert.throws(() => new Journal({ dir, fsyncMs: 0, maxBytes: 1 << 20 }), JournalLockedError);
    first.close();
    const second = new Journal({ dir, fsyncMs: 0, maxBytes: 1 << 20 });
    assert.equal(second.id, first.id, 'the id is the data directory’s, kept across starts');
    second.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('node src/main.ts: a second process on a running one’s data dir exits at start, before touching its journal', async () => {
  const dir = tmp();
  const run = (port: number) => {
    const child = spawn(process.execPath, ['src/main.ts'], { cwd: path.resolve(import.meta.dirname, '..'), env: { ...process.env, TOLLGATE_DATA_DIR: dir, TOLLGATE_HOST: '127.0.0.1', TOLLGATE_PORT: String(port), TOLLGATE_ADMIN_KEY: 'journal-lock-admin-key-0123456789', TOLLGATE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    return { child, out: () => out, exited: new Promise<number | null>((resolve) => child.on('exit', resolve)) };
  };
  const port = await freePort();
  const first = run(port);
  try {
    // The first must be serving (its migrations done) before the second starts: a refused
    // connection returns at once, so wait between tries (up to 30 s on a loaded machine).
    let ready = false;
    for (let i = 0; i < 300 && !ready; i++) {
      ready = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
      if (!ready) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(ready, `the first process did not start: ${first.out()}`);
    const second = run(await freePort());
    assert.equal(await second.exited, 2, second.out());
    assert.match(second.out(), /in use by another Tollgate process/);
    assert.equal(first.child.exitCode, null, 'the first one goes on');
  } finally {
    first.child.kill('SIGTERM');
    await first.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const dialect of DIALECTS) {
  describe(`journal replay (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    test('rows a dead process never flushed are replayed once; committed ones are skipped; a second replay inserts nothing', async () => {
      const dir = tmp();
      const db = await openFor(dialect, dir);
      try {
        const jdir = path.join(dir, 'journal');
        const a = await journaled(db, jdir, { batchSize: 50 });
        assert.deepEqual(a.replay, { replayed: 0, skipped: 0, bad: 0, nextSeq: 1 });
        for (let i = 0; i < 120; i++) a.writer.enqueue(row(i));
        await a.writer.flush(); // 120 committed
        for (let i = 120; i < 200; i++) a.writer.enqueue(row(i)); // 80 answered, never flushed
        // The process dies here: no stop(), no close(); only its lock goes (as the kernel frees it).
        (a.journal as unknown as { lock: { close(): void } }).lock.close();
        assert.deepEqual(await counts(db), { logs: 120, distinct: 120, logCost: 9000, rolled: 120, rollCost: 9000, orgCost: 9000 });

        // A copy of the journal as it was, to replay a second time below.
        const copy = tmp();
        for (const f of segments(jdir)) appendFileSync(path.join(copy, f), readFileSync(path.join(jdir, f)));

        const b = await journaled(db, jdir, { batchSize: 50 });
        assert.deepEqual(b.replay, { replayed: 80, skipped: 120, bad: 0, nextSeq: 201 });
        assert.deepEqual(await counts(db), { logs: 200, distinct: 200, logCost: 15_000, rolled: 200, rollCost: 15_000, orgCost: 15_000 });
        b.writer.enqueue(row(200));
        await b.writer.stop();
        b.journal.close();
        assert.deepEqual(segments(jdir), [], 'everything committed: no segment left');

        // The same segments again (a crash between the replay's commit and their deletion).
        for (const f of segments(copy)) appendFileSync(path.join(jdir, f), readFileSync(path.join(copy, f)));
        const c = await journaled(db, jdir);
        assert.deepEqual(c.replay, { replayed: 0, skipped: 200, bad: 0, nextSeq: 202 });
        assert.deepEqual(await counts(db), { logs: 201, distinct: 201, logCost: 15_075, rolled: 201, rollCost: 15_075, orgCost: 15_075 });
        c.journal.close();
        rmSync(copy, { recursive: true, force: true });
      } finally {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('a torn last line (an OS crash mid-write) is counted and skipped, the rows before it replayed', async () => {
      const dir = tmp();
      const db = await openFor(dialect, dir);
      try {
        const jdir = path.join(dir, 'journal');
        const a = await journaled(db, jdir);
        for (let i = 0; i < 5; i++) a.writer.enqueue(row(i));
        (a.journal as unknown as { lock: { close(): void } }).lock.close();
        appendFileSync(path.join(jdir, segments(jdir)[0]!), '[6,"req-6","2026-03-28T1');
        const b = await journaled(db, jdir);
        assert.deepEqual(b.replay, { replayed: 5, skipped: 0, bad: 1, nextSeq: 6 });
        assert.equal((await counts(db)).logs, 5);
        b.journal.close();
      } finally {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('a replay that fails (database error) keeps the segments; the next start replays them', async () => {
      const dir = tmp();
      const db = await openFor(dialect, dir);
      try {
        const jdir = path.join(dir, 'journal');
        const a = await journaled(db, jdir);
        for (let i = 0; i < 7; i++) a.writer.enqueue(row(i));
        (a.journal as unknown as { lock: { close(): void } }).lock.close();
        const sink = logSinkFor(db);
        await sql`alter table spend_rollups rename to spend_rollups_away`.execute(db.kysely);
        const j = new Journal({ dir: jdir, fsyncMs: 0, maxBytes: 1 << 20 });
        await assert.rejects(replayJournal(j, sink, db.kysely, 100));
        j.close();
        assert.equal(segments(jdir).length, 1);
        await sql`alter table spend_rollups_away rename to spend_rollups`.execute(db.kysely);
        const b = await journaled(db, jdir);
        assert.equal(b.replay.replayed, 7);
        assert.equal((await counts(db)).rolled, 7);
        b.journal.close();
      } finally {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

test('segments rotate, are deleted once committed, and stay bounded while the database is down', async () => {
  const dir = tmp();
  const db = await openFor('sqlite', dir);
  try {
    const jdir = path.join(dir, 'journal');
    const lineBytes = JSON.stringify([100, ...LOG_COLUMNS.map((c) => row(100)[c] ?? null)]).length + 1;
    // ~10 rows a segment, at most ~5 segments.
    const a = await journaled(db, jdir, { segmentBytes: lineBytes * 10, maxBytes: lineBytes * 50, queueMax: 30, batchSize: 1000 });
    for (let i = 0; i < 25; i++) a.writer.enqueue(row(i));
    assert.equal(segments(jdir).length, 3, '25 rows: two full segments and an open one');
    await a.writer.flush();
    assert.equal(segments(jdir).length, 1, 'the committed closed segments are gone; the open one stays');

    // Database down: rows pile up in memory (bounded by queueMax) and in the journal (bounded by maxBytes).
    await sql`alter table spend_rollups rename to spend_rollups_away`.execute(db.kysely);
    for (let i = 25; i < 125; i++) a.writer.enqueue(row(i));
    await assert.rejects(a.writer.flush());
    assert.ok(a.journal.bytes <= lineBytes * 50 + lineBytes * 10, `journal bounded: ${a.journal.bytes} bytes`);
    assert.ok(segments(jdir).length <= 6);
    assert.ok(a.journal.overflowRows > 0, 'what went past the bound is counted');
    assert.equal(a.writer.pending, 30, 'the memory queue keeps its own bound');
    await sql`alter table spend_rollups_away rename to spend_rollups`.execute(db.kysely);
    await a.writer.stop();
    a.journal.close();
    assert.deepEqual(segments(jdir), []);
    assert.equal((await counts(db)).logs, 25 + 30);
    assert.ok(existsSync(path.join(jdir, 'id')));
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
