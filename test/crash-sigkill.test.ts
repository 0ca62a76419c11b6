// kill -9 under load loses nothing that was answered: `node src/main.ts` serving ~200 req/s of
// OpenAI SDK requests (plain and streamed) is SIGKILLed mid-load and started again on the same data
// directory. Every request whose response the client received is in request_logs exactly once,
// the spend rollups equal the sum of the logged costs, and replaying the same journal again adds
// nothing. Embedded (SQLite), embedded on PostgreSQL, and a cluster replica (PostgreSQL + Redis)
// restarted on its own disk. What a replica whose disk is lost can lose is shown last.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { sql } from 'kysely';
import { openDb } from '../src/db/connection.ts';
import { decodeSegment } from '../src/usage/journal.ts';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.ts';
import { serviceSkip, testPostgresUrl, testRedisUrl } from './support/services.ts';
import { ADMIN_KEY } from './support/gateway.ts';
import { launchTollgate, type Proc } from './support/tollgate-process.ts';

const UPSTREAM = 'sk-upstream-crash-test';

const launch = (env: Record<string, string>): Promise<Proc> => launchTollgate(env);

async function stop(p: Proc): Promise<void> {
  p.child.kill('SIGTERM');
  assert.equal(await p.exited, 0, p.out());
}

async function newKey(p: Proc): Promise<string> {
  const h = { 'x-admin-key': ADMIN_KEY, 'content-type': 'application/json' };
  const team = (await (await fetch(p.url + '/api/teams', { method: 'POST', headers: h, body: '{"name":"crash"}' })).json()) as { id: number };
  return ((await (await fetch(p.url + `/api/teams/${team.id}/keys`, { method: 'POST', headers: h, body: '{"name":"load"}' })).json()) as { key: string }).key;
}

/**
 * Up to ~200 requests a second (at most 16 in flight) for `ms`, one in four streamed, SIGKILLing the
 * process at `killAt` ms. Returns the request ids of the answers the client received in full.
 */
async function loadAndKill(p: Proc, key: string, ms: number, killAt: number): Promise<{ received: string[]; failed: number }> {
  const client = new OpenAI({ apiKey: key, baseURL: p.url + '/v1', maxRetries: 0, timeout: 10_000 });
  const received: string[] = [];
  let failed = 0;
  const one = async (i: number) => {
    try {
      const messages = [{ role: 'user' as const, content: `request ${i}` }];
      if (i % 4 === 0) {
        const { data, response } = await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } }).withResponse();
        for await (const _ of data) {
          // read it all: only a complete stream counts as received
        }
        received.push(response.headers.get('x-request-id')!);
      } else {
        const { response } = await client.chat.completions.create({ model: 'gpt-4o', messages }).withResponse();
        received.push(response.headers.get('x-request-id')!);
      }
    } catch {
      failed++; // cut by the kill (reset, refused): not received
    }
  };
  for (let i = 0; i < 4; i++) await one(-1 - i); // warm: key, route and policy caches, JIT
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  let killed = false;
  for (let i = 0; performance.now() - started < ms || !killed; i++) {
    const wait = started + i * 5 - performance.now();
    if (wait > 0) await sleep(wait);
    while (inFlight.size >= 16) await Promise.race(inFlight);
    // Killed at `killAt`, and not before 20 answers (a slow machine: the kill must land under
    // load), unless none come for a long while.
    const elapsed = performance.now() - started;
    if (!killed && elapsed >= killAt && (received.length >= 20 || elapsed >= ms * 5)) {
      p.child.kill('SIGKILL');
      killed = true;
    }
    const req = one(i).finally(() => inFlight.delete(req));
    inFlight.add(req);
  }
  await Promise.all(inFlight);
  await p.exited;
  return { received, failed };
}

interface Totals { rows: number; distinct: number; forwarded: number; logCost: number; rollRequests: number; rollCost: number; orgRequests: number; orgCost: number }

async function totals(databaseUrl: string, ids: string[]): Promise<{ t: Totals; missing: string[]; duplicated: string[] }> {
  const db = openDb(databaseUrl);
  try {
    const k = db.kysely;
    const logs = await k.selectFrom('request_logs').select([
      sql<number>`count(*)`.as('rows'), sql<number>`count(distinct request_id)`.as('distinct'),
      sql<number>`sum(case when provider is not null then 1 else 0 end)`.as('forwarded'),
      sql<number>`coalesce(sum(case when provider is not null then cost_micro else 0 end), 0)`.as('cost'),
    ]).executeTakeFirstOrThrow();
    const roll = await k.selectFrom('spend_rollups').select([sql<number>`coalesce(sum(requests), 0)`.as('n'), sql<number>`coalesce(sum(cost_micro), 0)`.as('c')]).executeTakeFirstOrThrow();
    const org = await k.selectFrom('org_day_rollups').select([sql<number>`coalesce(sum(requests), 0)`.as('n'), sql<number>`coalesce(sum(cost_micro), 0)`.as('c')]).executeTakeFirstOrThrow();
    const seen = new Map<string, number>();
    for (const r of await k.selectFrom('request_logs').select(['request_id']).execute()) seen.set(r.request_id, (seen.get(r.request_id) ?? 0) + 1);
    return {
      t: { rows: Number(logs.rows), distinct: Number(logs.distinct), forwarded: Number(logs.forwarded), logCost: Number(logs.cost), rollRequests: Number(roll.n), rollCost: Number(roll.c), orgRequests: Number(org.n), orgCost: Number(org.c) },
      missing: ids.filter((id) => !seen.has(id)),
      duplicated: ids.filter((id) => (seen.get(id) ?? 0) > 1),
    };
  } finally {
    await db.close();
  }
}

function assertConsistent(t: Totals): void {
  assert.equal(t.rows, t.distinct, 'no request is logged twice');
  assert.equal(t.rollRequests, t.forwarded, 'spend_rollups count every forwarded request once');
  assert.equal(t.rollCost, t.logCost, 'spend_rollups hold the sum of the logged costs');
  assert.equal(t.orgRequests, t.forwarded);
  assert.equal(t.orgCost, t.logCost, 'org_day_rollups too (organization budgets are rebuilt from them)');
}

const replayedRows = (out: string): number => {
  const m = /"replayed":(\d+)[^\n]*request log journal replayed/.exec(out);
  return m ? Number(m[1]) : 0;
};

const MODES = [
  { name: 'embedded, SQLite', skip: false as const, db: 'sqlite', redis: false },
  { name: 'embedded, PostgreSQL', skip: serviceSkip('postgres'), db: 'postgres', redis: false },
  { name: 'cluster replica, PostgreSQL + Redis', skip: serviceSkip('postgres') || serviceSkip('redis'), db: 'postgres', redis: true },
] as const;

for (const mode of MODES) {
  describe(`kill -9 under load (${mode.name})`, { skip: mode.skip }, () => {
    test('every answered request is logged exactly once and counted in the spend; a second replay adds nothing', async (t) => {
      const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-crash-'));
      const fake: FakeUpstream = await startFakeUpstream({ requireAuth: UPSTREAM, completionTokens: 8 });
      const databaseUrl = mode.db === 'sqlite' ? `sqlite:${path.join(dir, 'tollgate.db')}` : (await testPostgresUrl())!;
      const env: Record<string, string> = {
        TOLLGATE_DATA_DIR: dir, TOLLGATE_DATABASE_URL: databaseUrl, TOLLGATE_ADMIN_KEY: ADMIN_KEY,
        OPENAI_API_KEY: UPSTREAM, OPENAI_BASE_URL: fake.baseUrl + '/v1',
        // Flushed every second: at the kill, up to a second of answered rows is only in memory and
        // in the journal (the default, 250 ms, leaves less, but not nothing: ~50 rows at 200 req/s).
        TOLLGATE_LOG_FLUSH_MS: '1000',
        ...(mode.redis ? { TOLLGATE_REDIS_URL: testRedisUrl()!, TOLLGATE_REDIS_PREFIX: `tg-crash:${randomUUID()}:` } : {}),
      };
      let p = await launch(env);
      try {
        const key = await newKey(p);
        const { received, failed } = await loadAndKill(p, key, 2000, 1200);
        assert.ok(received.length >= 20, `enough load before the kill: ${received.length} received, ${failed} failed`);
        assert.ok(failed > 0, 'the kill cut the load');

        // Keep the journal as the dead process left it, to replay it a second time below.
        const jdir = path.join(dir, 'journal');
        const saved = path.join(dir, 'journal-saved');
        mkdirSync(saved);
        for (const f of readdirSync(jdir).filter((x) => x.endsWith('.jsonl'))) copyFileSync(path.join(jdir, f), path.join(saved, f));
        // What the killed process had enqueued (its journal), and which of it it had not committed:
        // exactly those rows must come back, whether the kill fell just after a flush (none) or not.
        const journaled = readdirSync(saved).flatMap((f) => decodeSegment(readFileSync(path.join(saved, f), 'utf8')).rows.map((r) => r.row.request_id));
        const uncommitted = (await totals(databaseUrl, journaled)).missing.length;

        p = await launch(env);
        // The replay is logged before the process listens, but its log line reaches our pipe
        // asynchronously: on a busy machine it can arrive after the readiness answer.
        await stop(p);
        const replayed = replayedRows(p.out());
        // Everything enqueued is there, once: the uncommitted rows (without the journal, they and
        // their spend were lost) came back, and nothing already committed was inserted again.
        const enqueued = await totals(databaseUrl, journaled);
        assert.deepEqual(enqueued.missing, [], 'every row in the journal is in request_logs');
        assert.deepEqual(enqueued.duplicated, []);
        assert.equal(replayed, uncommitted, 'the replay inserts exactly the rows the killed process had not committed');
        const after = await totals(databaseUrl, received);
        t.diagnostic(`${received.length} answered, ${failed} cut by the kill; ${journaled.length} journaled, ${uncommitted} uncommitted, ${replayed} replayed; ${after.t.rows} logged`);
        assert.deepEqual(after.duplicated, []);
        assertConsistent(after.t);
        assert.ok(after.t.logCost > 0);
        // Every answer the client got in full: the pipeline journals a request's row before the
        // last of its answer is written, so a kill at any instant cannot separate the two.
        assert.deepEqual(after.missing, [], `every answered request is logged (${received.length} answered, ${replayed} replayed)`);

        // A crash after the replay committed but before its segments went: the same rows again.
        for (const f of readdirSync(saved)) copyFileSync(path.join(saved, f), path.join(jdir, f));
        p = await launch(env);
        await stop(p);
        assert.equal(replayedRows(p.out()), 0, 'rows already committed are not replayed');
        const again = await totals(databaseUrl, received);
        assert.deepEqual(again.t, after.t, 'replaying the same journal twice does not double count');
      } finally {
        if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
        await p.exited;
        await fake.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

describe('a cluster replica whose disk is lost (PostgreSQL + Redis)', { skip: serviceSkip('postgres') || serviceSkip('redis') }, () => {
  test('loses what it had not flushed — nothing else, and nothing half-counted', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-crash-'));
    const fake = await startFakeUpstream({ requireAuth: UPSTREAM });
    const databaseUrl = (await testPostgresUrl())!;
    const env = {
      TOLLGATE_DATA_DIR: dir, TOLLGATE_DATABASE_URL: databaseUrl, TOLLGATE_ADMIN_KEY: ADMIN_KEY,
      OPENAI_API_KEY: UPSTREAM, OPENAI_BASE_URL: fake.baseUrl + '/v1',
      TOLLGATE_REDIS_URL: testRedisUrl()!, TOLLGATE_REDIS_PREFIX: `tg-crash:${randomUUID()}:`,
    };
    let p = await launch({ ...env, TOLLGATE_LOG_FLUSH_MS: '50' });
    try {
      const key = await newKey(p);
      let client = new OpenAI({ apiKey: key, baseURL: p.url + '/v1', maxRetries: 0 });
      const ids: string[] = [];
      const send = async () => ids.push((await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }).withResponse()).response.headers.get('x-request-id')!);
      for (let i = 0; i < 5; i++) await send();
      await sleep(300); // flushed (every 50 ms)
      await stop(p);
      // A flush interval longer than the test: what follows is only in memory and in the journal.
      p = await launch({ ...env, TOLLGATE_LOG_FLUSH_MS: '600000' });
      client = new OpenAI({ apiKey: key, baseURL: p.url + '/v1', maxRetries: 0 });
      const flushed = ids.length;
      for (let i = 0; i < 5; i++) await send();
      await sleep(100);
      p.child.kill('SIGKILL');
      await p.exited;
      rmSync(dir, { recursive: true, force: true }); // the disk is gone with the replica
      p = await launch(env);
      await stop(p);
      const t = await totals(databaseUrl, ids);
      assert.deepEqual(t.missing, ids.slice(flushed), 'exactly the rows not yet flushed are lost');
      assertConsistent(t.t);
    } finally {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await p.exited;
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
