// Rate windows survive a restart in embedded mode (windows in process memory): a key limited to N
// requests a day or an hour gets N in total across a graceful restart and a kill -9, not N per
// process. See docs/limits.md, "Rate windows across restarts".
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFakeUpstream } from './support/fake-upstream.ts';
import { testPostgresUrl } from './support/services.ts';
import { openDb } from '../src/db/connection.ts';
import { migrate } from '../src/db/migrate.ts';
import { ADMIN_KEY, DIALECTS, UPSTREAM_KEY, TestClock, dialectSkip, startGateway, type Gateway } from './support/gateway.ts';
import { launchTollgate, type Proc } from './support/tollgate-process.ts';


const launch = (env: Record<string, string>): Promise<Proc> => launchTollgate(env);

async function chat(url: string, key: string): Promise<{ status: number; remaining: string | null; window?: string }> {
  const res = await fetch(url + '/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'count me' }] }),
  });
  const body = (await res.json()) as { error?: { window?: string } };
  return { status: res.status, remaining: res.headers.get('x-ratelimit-remaining-requests'), ...(body.error?.window ? { window: body.error.window } : {}) };
}

async function statuses(url: string, key: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await chat(url, key)).status);
  return out;
}

describe('rate windows across restarts (node src/main.ts, SQLite)', () => {
  test('rpd and rph: N requests in total across a SIGTERM restart and a SIGKILL restart', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-windows-'));
    const fake = await startFakeUpstream({ requireAuth: 'sk-up' });
    // A long flush interval: what the SIGKILLed process answered is only in its journal.
    const env = { TOLLGATE_DATA_DIR: dir, TOLLGATE_ADMIN_KEY: ADMIN_KEY, OPENAI_API_KEY: 'sk-up', OPENAI_BASE_URL: fake.baseUrl + '/v1', TOLLGATE_LOG_FLUSH_MS: '60000' };
    let p = await launch(env);
    try {
      const h = { 'x-admin-key': ADMIN_KEY, 'content-type': 'application/json' };
      const post = async (url: string, body: unknown) => (await fetch(p.url + url, { method: 'POST', headers: h, body: JSON.stringify(body) })).json() as Promise<any>;
      const team = await post('/api/teams', { name: 'windows' });
      const daily = (await post(`/api/teams/${team.id}/keys`, { name: 'daily', rpd: 6 })).key as string;
      const hourly = (await post(`/api/teams/${team.id}/keys`, { name: 'hourly', rph: 6 })).key as string;
      const teamDaily = await post('/api/teams', { name: 'team-limited' });
      await fetch(p.url + `/api/teams/${teamDaily.id}/limits`, { method: 'PUT', headers: h, body: JSON.stringify({ rpd: 6 }) });
      const [t1, t2] = [(await post(`/api/teams/${teamDaily.id}/keys`, { name: 't1' })).key as string, (await post(`/api/teams/${teamDaily.id}/keys`, { name: 't2' })).key as string];

      for (const k of [daily, hourly, t1, t2]) assert.deepEqual(await statuses(p.url, k, 1), [200]);
      for (const k of [daily, hourly]) assert.deepEqual(await statuses(p.url, k, 1), [200]);
      p.child.kill('SIGTERM');
      assert.equal(await p.exited, 0);

      p = await launch(env);
      const first = await chat(p.url, daily);
      assert.equal(first.status, 200);
      assert.equal(first.remaining, '3', 'the rebuilt day window holds the 2 requests of the first run');
      assert.deepEqual(await statuses(p.url, daily, 1), [200]);
      assert.deepEqual(await statuses(p.url, hourly, 2), [200, 200]);
      assert.deepEqual(await statuses(p.url, t1, 1), [200]);
      assert.deepEqual(await statuses(p.url, t2, 1), [200]);
      // Killed the moment the last answer is in: its row was journaled before the answer ended.
      p.child.kill('SIGKILL');
      await p.exited;

      p = await launch(env);
      assert.deepEqual(await statuses(p.url, daily, 4), [200, 200, 429, 429], 'rpd 6: 2 + 2 + 2');
      assert.deepEqual(await statuses(p.url, hourly, 4), [200, 200, 429, 429], 'rph 6: 2 + 2 + 2');
      assert.deepEqual(await statuses(p.url, t1, 3), [200, 200, 429], 'team rpd 6: 2 + 2 + 2 (both keys count)');
      const denied = await chat(p.url, t2);
      assert.equal(denied.status, 429);
      assert.equal(denied.window, 'rpd');
      assert.equal(fake.requests.filter((r) => r.path === '/v1/chat/completions').length, 6 + 6 + 6, 'exactly N forwarded per limit, in all');
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

for (const dialect of DIALECTS) {
  describe(`rate windows rebuilt in process (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    test('member, team, rotated key and token windows come back exactly; a minute window conservatively', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-windows-'));
      const databaseUrl = dialect === 'sqlite' ? `sqlite:${path.join(dir, 'tollgate.db')}` : (await testPostgresUrl())!;
      const clock = new TestClock(Date.parse('2026-03-28T12:00:30Z'));
      const fake = await startFakeUpstream({ requireAuth: UPSTREAM_KEY });
      const start = () => startGateway({ dialect, clock, fake, env: { TOLLGATE_DATA_DIR: dir, TOLLGATE_DATABASE_URL: databaseUrl } });
      let gw: Gateway = await start();
      try {
        const team = (await gw.api('POST', '/api/teams', { name: 'in-process' })).body;
        const user = (await gw.api('POST', '/api/users', { external_id: 'ana@example.com', team_id: team.id })).body;
        assert.equal((await gw.api('PUT', `/api/teams/${team.id}/limits`, { rph: 5 })).status, 200);
        assert.equal((await gw.api('PUT', `/api/teams/${team.id}/members/${user.id}/limits`, { rpd: 4 })).status, 200);
        const key = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'k', user_id: user.id, rpm: 3, tpd: 1_000_000 })).body;
        const call = async (k: string) => {
          try {
            await gw.openai(k).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
            return 200;
          } catch (err) {
            return (err as { status: number }).status;
          }
        };
        assert.deepEqual([await call(key.key), await call(key.key)], [200, 200]);
        const used = await gw.runtime.deps.counters.peek([{ key: `rl:key:${key.id}:tpd`, windowMs: 86_400_000, bucketMs: 1_440_000, cost: 0 }], [], [], clock.now());
        await gw.close();

        clock.advance(10_000); // 12:00:40, still in the start minute of the first run
        gw = await start();
        const rebuilt = await gw.runtime.deps.counters.peek([{ key: `rl:key:${key.id}:tpd`, windowMs: 86_400_000, bucketMs: 1_440_000, cost: 0 }], [], [], clock.now());
        assert.equal(rebuilt.windows[0]!.used, used.windows[0]!.used, 'tokens of the day come back exactly');
        assert.ok(used.windows[0]!.used > 0);
        assert.equal(await call(key.key), 200, 'rpm 3: the third of the minute');
        assert.equal(await call(key.key), 429, 'rpm 3 used (2 before the restart)');
        clock.advance(80_000); // 12:02:00: the minute of the first run (put at its last second) has left the window
        const rotated = (await gw.api('POST', `/api/teams/${team.id}/keys/${key.id}/rotate`)).body;
        assert.equal(await call(rotated.key), 200, 'the member’s 4th of the day');
        await gw.close();

        clock.advance(5_000);
        gw = await start();
        assert.equal(await call(rotated.key), 429, 'member rpd 4: 2 + 1 + 1, counted through the rotation (the same key)');
        const other = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'service' })).body;
        assert.equal(await call(other.key), 200, 'the team’s 5th of the hour');
        assert.equal(await call(other.key), 429, 'team rph 5');
      } finally {
        await gw.close();
        await fake.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

for (const dialect of DIALECTS) {
  describe(`migration 0004 (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    test('fills usage_minutes from the last day of forwarded requests, so the upgrade restart keeps its windows', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-0004-'));
      const db = openDb(dialect === 'sqlite' ? `sqlite:${path.join(dir, 't.db')}` : (await testPostgresUrl())!);
      try {
        await migrate(db, '0003_org_day_rollups');
        const minute = Math.floor(Date.now() / 60_000) - 30;
        const at = (m: number, s = 7) => new Date(m * 60_000 + s * 1000).toISOString();
        const row = (i: number, created_at: string, over: Record<string, unknown> = {}) => ({
          request_id: `r${i}`, created_at, org_id: 1, team_id: 4, user_id: 9, key_id: 2, endpoint: 'chat/completions', model: 'm', provider: 'openai',
          status_code: 200, error_code: null, streamed: 0, tokens_in: 10, tokens_out: 5, cost_micro: 1, unpriced: 0, usage_estimated: 0, latency_ms: 1, client_ip: null, ...over,
        });
        await db.kysely.insertInto('request_logs').values([
          row(1, at(minute)), row(2, at(minute, 59)), row(3, at(minute + 1), { key_id: 3, team_id: null, user_id: 9 }),
          row(4, at(minute), { provider: null, status_code: 429, tokens_in: 0, tokens_out: 0 }), // refused: took nothing
          row(5, at(minute - 26 * 60)), // older than a day
        ]).execute();
        assert.deepEqual(await migrate(db, '0004_crash_recovery'), ['0004_crash_recovery']);
        const rows = await db.kysely.selectFrom('usage_minutes').select(['scope', 'minute', 'requests', 'tokens']).orderBy('scope').orderBy('minute').execute();
        assert.deepEqual(rows.map((r) => [r.scope, Number(r.minute) - minute, Number(r.requests), Number(r.tokens)]), [
          ['key:2', 0, 2, 30], ['key:3', 1, 1, 15], ['org:1', 0, 2, 30], ['org:1', 1, 1, 15], ['team:4', 0, 2, 30],
        ]);
      } finally {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
