// Two Tollgate processes on one PostgreSQL database and one Redis, as a load balancer would see
// them: a team RPM limit holds across both, a revocation on one replica reaches the other within
// a second, and concurrent requests on both never push a key or a team past its hard budget.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type OpenAI from 'openai';
import { serviceSkip } from './support/services.ts';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.ts';
import { clusterEnv, startReplica, type Replica } from './support/replicas.ts';
import { BUILTIN_PRICES, costMicro } from '../src/usage/pricing.ts';

const ADMIN_KEY = `admin-${randomUUID()}`;
const UPSTREAM_KEY = 'sk-upstream-multi-replica';
const skip = serviceSkip('postgres') || serviceSkip('redis');
/** Printed at the end, for the record (admitted counts, propagation time, spend vs cap). */
const figures: Record<string, unknown> = {};

type Outcome = { status: number; code: string | undefined; message?: string };

async function chat(client: OpenAI, stream: boolean): Promise<Outcome> {
  const body = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'hello' }], max_tokens: 12 };
  try {
    if (stream) {
      const s = await client.chat.completions.create({ ...body, stream: true });
      for await (const _ of s) { /* read to the end */ }
    } else {
      await client.chat.completions.create(body);
    }
    return { status: 200, code: undefined };
  } catch (err) {
    const e = err as { status: number; error?: { code?: string; message?: string } };
    return e.status === 429 ? { status: e.status, code: e.error?.code } : { status: e.status, code: e.error?.code, message: e.error?.message ?? String(err) };
  }
}

const count = (outs: Outcome[], status: number) => outs.filter((o) => o.status === status).length;

describe('two replicas on one PostgreSQL and one Redis', { skip }, () => {
  let a: Replica;
  let b: Replica;
  let fake: FakeUpstream;

  before(async () => {
    fake = await startFakeUpstream({ requireAuth: UPSTREAM_KEY });
    const env = await clusterEnv(ADMIN_KEY, UPSTREAM_KEY, fake.baseUrl, { TOLLGATE_LOG_FLUSH_MS: '50' });
    // Started together, as a Deployment does: bootstrap must not race.
    [a, b] = await Promise.all([startReplica('a', env, ADMIN_KEY), startReplica('b', env, ADMIN_KEY)]);
  });

  after(async () => {
    console.log('multi-replica figures:', JSON.stringify(figures));
    const codes = await Promise.all([a?.stop(), b?.stop()]);
    await fake?.close();
    assert.deepEqual(codes, [0, 0], `both replicas drained and exited cleanly:\n${a?.out()}\n${b?.out()}`);
  });

  test('the credential sealed by one replica is usable through the other', async () => {
    const providers = (await b.api('GET', '/api/providers')).body;
    assert.equal(providers.data.length, 1, 'OPENAI_API_KEY registered once, not once per replica');
    const team = (await a.api('POST', '/api/teams', { name: 'Hello' })).body;
    const key = (await a.api('POST', `/api/teams/${team.id}/keys`, { name: 'k' })).body;
    assert.equal((await chat(a.openai(key.key), false)).status, 200);
    assert.equal((await chat(b.openai(key.key), true)).status, 200);
  });

  test('a team RPM limit of N admits exactly N requests spread across both replicas', async () => {
    const N = 12;
    const teamWithKeys = async (name: string) => {
      const team = (await a.api('POST', '/api/teams', { name })).body;
      const keys = await Promise.all([1, 2].map(async (i) => (await a.api('POST', `/api/teams/${team.id}/keys`, { name: `k${i}` })).body.key as string));
      // Warm both replicas' caches with the team's (empty) policy: the limit must reach B as an invalidation.
      assert.equal((await chat(a.openai(keys[0]!), false)).status, 200);
      assert.equal((await chat(b.openai(keys[1]!), false)).status, 200);
      assert.equal((await a.api('PUT', `/api/teams/${team.id}/limits`, { rpm: N })).status, 200);
      const started = performance.now();
      for (;;) {
        const res = await fetch(b.url + '/v1/key', { headers: { authorization: `Bearer ${keys[1]}` } });
        const layers = ((await res.json()) as { data: { layers: Array<{ level: string; policy: { rpm: number | null } }> } }).data.layers;
        if (layers.find((l) => l.level === 'team')?.policy.rpm === N) break;
        assert.ok(performance.now() - started < 1000, 'B saw the new team limit within a second');
        await sleep(10);
      }
      return { keys, propagationMs: Math.round(performance.now() - started) };
    };
    const calls = (keys: string[]) => Array.from({ length: 3 * N }, (_, i) => ({ replica: i % 2 ? b : a, key: keys[Math.floor(i / 2) % 2]!, stream: i % 3 === 0 }));
    const tally = (cs: Array<{ replica: Replica }>, outs: Outcome[]) => {
      const on = (r: Replica) => outs.filter((o, i) => o.status === 200 && cs[i]!.replica === r).length;
      assert.ok(outs.every((o) => o.status === 200 || (o.status === 429 && o.code === 'rate_limit_exceeded')), JSON.stringify(outs));
      return { limit: N, sent: outs.length, admitted: count(outs, 200), onA: on(a), onB: on(b) };
    };

    // One at a time, alternating replicas: the first N pass, half on each.
    const seq = await teamWithKeys('RPM sequential');
    const seqCalls = calls(seq.keys);
    const seqOuts: Outcome[] = [];
    for (const c of seqCalls) seqOuts.push(await chat(c.replica.openai(c.key), c.stream));
    const sequential = tally(seqCalls, seqOuts);
    assert.deepEqual(seqOuts.map((o) => o.status), [...Array(N).fill(200), ...Array(2 * N).fill(429)]);
    assert.deepEqual([sequential.onA, sequential.onB], [N / 2, N / 2]);

    // All at once on both replicas: still exactly N, however the race falls.
    const con = await teamWithKeys('RPM concurrent');
    const conCalls = calls(con.keys);
    const concurrent = tally(conCalls, await Promise.all(conCalls.map((c) => chat(c.replica.openai(c.key), c.stream))));
    figures.policyPropagationMs = [seq.propagationMs, con.propagationMs];
    figures.rpm = { sequential, concurrent };
    assert.equal(concurrent.admitted, N, `exactly ${N} admitted: ${JSON.stringify(concurrent)}`);
  });

  test('a key revoked on replica A is rejected on replica B within a second, though B had it cached', async () => {
    const team = (await a.api('POST', '/api/teams', { name: 'Revoke' })).body;
    const key = (await a.api('POST', `/api/teams/${team.id}/keys`, { name: 'k' })).body;
    const onB = b.openai(key.key);
    for (let i = 0; i < 3; i++) assert.equal((await chat(onB, false)).status, 200, 'warm in B\'s key cache');
    const revokedAt = performance.now(); // from the moment the DELETE is sent: the conservative measure
    assert.equal((await a.api('DELETE', `/api/teams/${team.id}/keys/${key.id}`)).status, 200);
    assert.equal((await chat(a.openai(key.key), false)).status, 403, 'A rejects it at once');
    let last: Outcome;
    for (;;) {
      last = await chat(onB, false);
      if (last.status !== 200) break;
      assert.ok(performance.now() - revokedAt < 1000, 'B still admits the revoked key after a second');
    }
    figures.revocationMs = Math.round(performance.now() - revokedAt);
    assert.deepEqual([last.status, last.code], [403, 'key_revoked']);
  });

  test('concurrent requests on both replicas never push a key or a team past its hard budget; spend = upstream usage × price', async () => {
    const price = BUILTIN_PRICES['gpt-4o']!;
    // "hello" is 5 prompt tokens to the fake; 12 output tokens (max_tokens). The admission bound is
    // 3 + 4 + 5 bytes of prompt and 12 of output.
    const perRequest = costMicro(price, 5, 12);
    const bound = costMicro(price, 12, 12);
    const keyCap = 4000; // micro-USD: $0.004, room for 30 requests, not 31
    const teamCap = 6000; // $0.006 for two keys together
    const kTeam = (await a.api('POST', '/api/teams', { name: 'Key budget' })).body;
    const kKey = (await a.api('POST', `/api/teams/${kTeam.id}/keys`, { name: 'capped' })).body;
    assert.equal((await b.api('PUT', `/api/keys/${kKey.id}/limits`, { max_budget_usd: keyCap / 1e6, budget_period: 'monthly' })).status, 200);
    const tTeam = (await a.api('POST', '/api/teams', { name: 'Team budget' })).body;
    assert.equal((await a.api('PUT', `/api/teams/${tTeam.id}/limits`, { max_budget_usd: teamCap / 1e6, budget_period: 'monthly' })).status, 200);
    const tKeys = await Promise.all([1, 2].map(async (i) => (await b.api('POST', `/api/teams/${tTeam.id}/keys`, { name: `t${i}` })).body.key as string));
    await sleep(200); // the limits reached both replicas (well within the 1 s bound measured above)
    fake.reset();

    const secrets = [kKey.key as string, tKeys[0]!, tKeys[1]!];
    const burst = await Promise.all(Array.from({ length: 240 }, (_, i) => chat((i % 2 ? b : a).openai(secrets[i % 3]!), i % 4 < 2)));
    assert.ok(burst.every((o) => o.status === 200 || (o.status === 429 && o.code === 'budget_exceeded')), JSON.stringify(burst.filter((o) => o.status !== 200 && o.code !== 'budget_exceeded').slice(0, 3)) + a.out() + b.out());
    // Then top each budget up one request at a time, alternating replicas, until it refuses.
    let topUps = 0;
    for (const s of secrets) {
      for (let i = 0; ; i++) {
        const o = await chat((i % 2 ? b : a).openai(s), false);
        if (o.status !== 200) break;
        topUps++;
      }
    }
    await sleep(300); // B's log writer flushes every 50 ms; A's flushes on the spend request
    const spend = async (teamId: string) => {
      const res = await a.api('GET', `/api/teams/${teamId}/spend`);
      assert.equal(res.status, 200, `${JSON.stringify(res.body)}\n${a.out()}`);
      return res.body.total;
    };
    const spendK = await spend(kTeam.id);
    const spendT = await spend(tTeam.id);
    const upstream = { ...fake.usageTotals };
    const micro = (usd: number) => Math.round(usd * 1e6);
    figures.budget = {
      perRequestMicro: perRequest, boundMicro: bound,
      burstAdmitted: count(burst, 200), topUps,
      keyCapMicro: keyCap, keySpentMicro: micro(spendK.cost_usd), keyRequests: spendK.requests,
      teamCapMicro: teamCap, teamSpentMicro: micro(spendT.cost_usd), teamRequests: spendT.requests,
      upstream,
    };
    assert.ok(micro(spendK.cost_usd) <= keyCap, `key under its cap: ${JSON.stringify(figures.budget)}`);
    assert.ok(micro(spendT.cost_usd) <= teamCap, `team under its cap: ${JSON.stringify(figures.budget)}`);
    assert.ok(keyCap - micro(spendK.cost_usd) < bound, 'the key budget was used up to within one request\'s bound');
    assert.ok(teamCap - micro(spendT.cost_usd) < bound, 'the team budget was used up to within one request\'s bound');
    assert.equal(upstream.prompt_tokens, 5 * upstream.requests);
    assert.equal(upstream.completion_tokens, 12 * upstream.requests);
    assert.equal(spendK.requests + spendT.requests, upstream.requests, 'every upstream request was metered once');
    assert.equal(micro(spendK.cost_usd) + micro(spendT.cost_usd), upstream.requests * perRequest, 'spend = upstream usage × price');
  });
});
