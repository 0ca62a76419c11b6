// Fallbacks and the circuit breaker: the try order (attempts.ts), the breaker's states
// (breaker.ts), and end to end through a real gateway: a failing primary deployment falls back to
// the secondary without the client noticing and both attempts are logged; after repeated failures
// the primary is skipped (not even called) until its cool-down ends and one request probes it;
// deleting a credential never reroutes a model to the catch-all; weights split traffic; a
// team-scoped credential serves its own team only.
// The breaker's settings come from TOLLGATE_BREAKER_*.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, TestClock, UPSTREAM_KEY, type Gateway } from './support/gateway.ts';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.ts';
import { backoff, MAX_ATTEMPTS, planAttempts, weightedOrder } from '../src/providers/attempts.ts';
import { Breaker, BREAKER_DEFAULTS } from '../src/providers/breaker.ts';
import { Router } from '../src/providers/router.ts';
import { loadConfig } from '../src/config.ts';
import type { ResolvedRoute } from '../src/providers/types.ts';

const deployment = (id: number, priority: number, weight = 1): ResolvedRoute => ({
  deploymentId: id, credentialId: id, provider: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'x', options: {}, upstreamModel: 'm', price: undefined, weight, priority,
});

describe('try order (attempts.ts)', () => {
  test('highest priority first; within a priority, traffic splits by weight', () => {
    const list = [deployment(1, 5), deployment(2, 0, 3), deployment(3, 0, 1)];
    let firstIs2 = 0;
    for (let i = 0; i < 4000; i++) {
      const order = weightedOrder(list).map((d) => d.deploymentId);
      assert.equal(order[0], 1, 'the higher priority always comes first');
      assert.deepEqual([...order].sort(), [1, 2, 3]);
      if (order[1] === 2) firstIs2++;
    }
    // weight 3 against 1: about 75 % (3,000 of 4,000; a 6-sigma band).
    assert.ok(firstIs2 > 2830 && firstIs2 < 3170, `weight 3 of 4 came first ${firstIs2} times of 4000`);
  });

  test('each deployment tried 1 + retries times with jittered, growing backoff; retries clamped to 3; at most 5 attempts', () => {
    const two = planAttempts([deployment(1, 1), deployment(2, 0)], 1);
    assert.deepEqual(two.map((a) => a.deployment.deploymentId), [1, 1, 2, 2]);
    assert.equal(two[0]!.delayMs, 0);
    assert.ok(two[1]!.delayMs >= 100 && two[1]!.delayMs <= 300, `first retry after ${two[1]!.delayMs} ms`);
    assert.equal(two[2]!.delayMs, 0, 'falling back to another deployment waits for nothing');
    assert.equal(planAttempts([deployment(1, 0)], 99).length, 4, '1 + at most 3 retries');
    assert.equal(planAttempts([1, 2, 3, 4, 5, 6, 7].map((i) => deployment(i, 0)), undefined).length, MAX_ATTEMPTS);
    assert.equal(planAttempts([deployment(1, 0)], 3).length, 4);
    for (let i = 0; i < 100; i++) {
      const second = backoff(2);
      assert.ok(second >= 200 && second <= 600, `second retry after ${second} ms`);
      assert.ok(backoff(10) <= 2000, 'capped');
    }
  });
});

describe('circuit breaker (breaker.ts)', () => {
  test('opens after N failures in a row, is skipped for the cool-down, then lets ONE probe through', () => {
    const clock = new TestClock();
    const b = new Breaker(clock);
    for (let i = 1; i < BREAKER_DEFAULTS.failures; i++) b.report(7, false);
    assert.equal(b.state(7), 'closed', 'one failure short');
    b.report(7, true);
    for (let i = 1; i < BREAKER_DEFAULTS.failures; i++) b.report(7, false);
    assert.equal(b.state(7), 'closed', 'a success in between starts the count again');
    b.report(7, false);
    assert.equal(b.state(7), 'open');
    assert.equal(b.usable(7), false);
    clock.advance(BREAKER_DEFAULTS.coolDownMs);
    assert.equal(b.state(7), 'half_open');
    assert.equal(b.usable(7), true, 'half-open: usable for the probe');
    b.probing(7);
    assert.equal(b.usable(7), false, 'only one probe at a time');
    b.report(7, false);
    assert.equal(b.state(7), 'open', 'a failed probe reopens it');
    clock.advance(BREAKER_DEFAULTS.coolDownMs);
    assert.equal(b.usable(7), true);
    b.probing(7);
    b.report(7, true);
    assert.equal(b.state(7), 'closed');
    assert.equal(b.quiet, true, 'a healthy deployment leaves nothing behind');
  });

  test('the router: an open deployment leaves the try order; half-open, the first request to try it first is the only probe; a half-open fallback stays in every order', () => {
    const clock = new TestClock();
    const router = new Router(null as never, null as never, null as never, { clock });
    const [primary, secondary] = [deployment(1, 1), deployment(2, 0)];
    const route = { model: 'm', deployments: [primary, secondary], timeoutMs: undefined, retries: undefined, boundPrice: undefined };
    const order = () => router.attempts(route, null).map((a) => a.deployment.deploymentId);
    for (let i = 0; i < BREAKER_DEFAULTS.failures; i++) router.report(secondary, false);
    assert.deepEqual(order(), [1], 'the open fallback is left out');
    clock.advance(BREAKER_DEFAULTS.coolDownMs);
    for (let i = 0; i < 3; i++) assert.deepEqual(order(), [1, 2], 'half-open behind a healthy primary: kept as the fallback of every request');
    for (let i = 0; i < BREAKER_DEFAULTS.failures; i++) router.report(primary, false);
    assert.deepEqual(order(), [2], 'the primary open: straight to the fallback');
    router.report(secondary, true); // that request was the fallback's probe, and it answered
    assert.equal(router.circuit(2), 'closed');
    clock.advance(BREAKER_DEFAULTS.coolDownMs);
    assert.deepEqual(order(), [1, 2], 'the primary half-open: this request probes it');
    assert.deepEqual(order(), [2], 'while the probe is out, no other request tries it');
    router.report(primary, true);
    assert.deepEqual(order(), [1, 2]);
    assert.equal(router.circuit(1), 'closed');
    // A probe is one attempt, whatever the route's retries.
    const retried = { ...route, retries: 2 };
    for (let i = 0; i < BREAKER_DEFAULTS.failures; i++) router.report(primary, false);
    clock.advance(BREAKER_DEFAULTS.coolDownMs);
    assert.deepEqual(router.attempts(retried, null).map((a) => a.deployment.deploymentId), [1, 2, 2]);
  });

  test('failures further apart than the window do not add up', () => {
    const clock = new TestClock();
    const b = new Breaker(clock);
    for (let i = 0; i < 10; i++) {
      b.report(1, false);
      clock.advance(BREAKER_DEFAULTS.windowMs / 3);
    }
    assert.equal(b.state(1), 'closed');
  });
});

/** A provider credential on `fake`, created through the API. */
async function addCredential(gw: Gateway, name: string, fake: FakeUpstream, extra: Record<string, unknown> = {}): Promise<number> {
  const res = await gw.api('POST', '/api/providers', { name, provider: 'openai', base_url: fake.baseUrl + '/v1', api_key: `sk-fallback-test-${name}-0000`, models: [`${name}-own`], ...extra });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id as number;
}

async function addRoute(gw: Gateway, model: string, deployments: unknown[]): Promise<{ id: number; deployments: Array<{ id: number; credential_id: number }> }> {
  const res = await gw.api('POST', '/api/routes', { model, deployments });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

/** A deployment's circuit as /api/routes shows it (for the replica that answered). */
async function circuitState(gw: Gateway, model: string, credentialId: number): Promise<string | undefined> {
  const r = (await gw.api('GET', '/api/routes')).body.data.find((x: { model: string }) => x.model === model);
  return r.deployments.find((d: { credential_id: number }) => d.credential_id === credentialId)?.circuit;
}

describe('fallbacks end to end', () => {
  let gw: Gateway;
  let clock: TestClock;
  let failing: FakeUpstream;
  let second: FakeUpstream;
  let third: FakeUpstream;
  let primaryId: number;
  let keySecret: string;
  let teamId: number;

  const credential = (name: string, fake: FakeUpstream, extra: Record<string, unknown> = {}) => addCredential(gw, name, fake, extra);
  const route = (model: string, deployments: unknown[]) => addRoute(gw, model, deployments);
  const ask = (model: string, key = keySecret) => gw.openai(key).chat.completions.create({ model, messages: [{ role: 'user', content: 'hello' }] });
  const circuitOf = (model: string, credentialId: number) => circuitState(gw, model, credentialId);

  before(async () => {
    clock = new TestClock(Date.now());
    gw = await startGateway({ clock });
    failing = await startFakeUpstream({ failStatus: 503 });
    second = await startFakeUpstream();
    third = await startFakeUpstream();
    primaryId = await credential('primary', failing);
    const secondaryId = await credential('secondary', second);
    await route('fb-model', [{ credential_id: primaryId, priority: 1 }, { credential_id: secondaryId }]);
    teamId = (await gw.api('POST', '/api/teams', { name: 'Fallback team' })).body.id;
    keySecret = (await gw.api('POST', `/api/teams/${teamId}/keys`, { name: 'fallback key' })).body.key;
  });
  after(async () => {
    await gw?.close();
    for (const f of [failing, second, third]) await f?.close();
  });

  test('the primary fails (503): the secondary answers, the client sees one answer, the log row holds both attempts', async () => {
    const answer = await ask('fb-model');
    assert.ok(answer.choices[0]?.message.content, 'one ordinary answer');
    assert.equal(failing.requests.length, 1, 'the primary was tried first');
    assert.equal(second.requests.length, 1);
    await gw.flush();
    const row = await gw.runtime.deps.db.kysely.selectFrom('request_logs').selectAll().where('model', '=', 'fb-model').orderBy('id', 'desc').executeTakeFirstOrThrow();
    assert.equal(row.status_code, 200);
    assert.equal(row.attempts, 2);
    const failed = JSON.parse(row.attempt_log!) as Array<{ credential_id: number; status: number }>;
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.credential_id, primaryId);
    assert.equal(failed[0]!.status, 503);
  });

  test('after 5 failures in a row the primary is skipped (no call at all) and shown open; after the cool-down one request probes it', async () => {
    for (let i = 0; i < 4; i++) await ask('fb-model');
    assert.equal(failing.requests.length, 5);
    assert.equal(await circuitOf('fb-model', primaryId), 'open');
    for (let i = 0; i < 3; i++) await ask('fb-model');
    assert.equal(failing.requests.length, 5, 'open: the primary was not called');
    assert.equal(second.requests.length, 8, 'the secondary answered every request');

    clock.advance(BREAKER_DEFAULTS.coolDownMs + 1);
    assert.equal(await circuitOf('fb-model', primaryId), 'half_open');
    await ask('fb-model');
    assert.equal(failing.requests.length, 6, 'one probe');
    assert.equal(await circuitOf('fb-model', primaryId), 'open', 'the probe failed: open again');
    await ask('fb-model');
    assert.equal(failing.requests.length, 6);

    // The primary recovers; after the next cool-down the probe succeeds and closes the circuit.
    failing.options.failStatus = undefined;
    clock.advance(BREAKER_DEFAULTS.coolDownMs + 1);
    const before = second.requests.length;
    await ask('fb-model');
    assert.equal(failing.requests.length, 7);
    assert.equal(second.requests.length, before, 'the recovered primary answered');
    assert.equal(await circuitOf('fb-model', primaryId), 'closed');
    failing.options.failStatus = 503;
  });

  test('deleting the primary\'s credential: requests go to the remaining fallback, the route stays', async () => {
    assert.equal((await gw.api('DELETE', `/api/providers/${primaryId}`)).status, 200);
    failing.reset();
    second.reset();
    await ask('fb-model');
    assert.equal(failing.requests.length, 0);
    assert.equal(second.requests.length, 1);
    const listed = (await gw.api('GET', '/api/routes')).body.data.find((r: { model: string }) => r.model === 'fb-model');
    assert.equal(listed.deployments.length, 1);
  });

  test('deleting the only credential of a model answers model_not_found, never the catch-all', async () => {
    const solo = await credential('solo', third, { models: ['solo-model'] });
    third.reset();
    await ask('solo-model');
    assert.equal(third.requests.length, 1);
    assert.equal((await gw.api('DELETE', `/api/providers/${solo}`)).status, 200);
    gw.fake.reset();
    await assert.rejects(ask('solo-model'), (err: { status?: number; code?: string }) => err.status === 404 && err.code === 'model_not_found');
    assert.equal(gw.fake.requests.length, 0, 'the catch-all (start-up credential) was not used');
    assert.ok((await gw.api('GET', '/api/routes')).body.data.some((r: { model: string; deployments: unknown[] }) => r.model === 'solo-model' && r.deployments.length === 0), 'the route is kept, empty, for an admin to route again');
  });

  test('weights split traffic between deployments of one priority', async () => {
    const a = await credential('weight-a', second);
    const b = await credential('weight-b', third);
    await route('split-model', [{ credential_id: a, weight: 3 }, { credential_id: b, weight: 1 }]);
    second.reset();
    third.reset();
    for (let i = 0; i < 120; i++) await ask('split-model');
    assert.equal(second.requests.length + third.requests.length, 120);
    // 3:1 → about 90 of 120 (sd ≈ 4.7); a wide band so the test never flakes.
    assert.ok(second.requests.length >= 70 && second.requests.length <= 108, `weight 3 got ${second.requests.length} of 120`);
  });

  test('a team-scoped credential is not used by another team\'s key: it falls to the org-wide deployment', async () => {
    const mine = await credential('team-scoped', third, { team_id: teamId });
    const shared = await credential('org-wide', second, { api_key: UPSTREAM_KEY });
    await route('team-first', [{ credential_id: mine, priority: 1 }, { credential_id: shared }]);
    const otherTeam = (await gw.api('POST', '/api/teams', { name: 'Another fallback team' })).body.id;
    const outsider = (await gw.api('POST', `/api/teams/${otherTeam}/keys`, { name: 'outsider' })).body.key;
    second.reset();
    third.reset();
    await ask('team-first');
    assert.equal(third.requests.length, 1, 'the team\'s key: its team credential');
    await ask('team-first', outsider);
    assert.equal(third.requests.length, 1, 'never for another team');
    assert.equal(second.requests.length, 1);
  });
});

describe('circuit breaker settings (TOLLGATE_BREAKER_*)', () => {
  test('a replica started with 2 failures and a 5 s cool-down opens after the 2nd failure and probes after 5 s', async () => {
    const clock = new TestClock(Date.now());
    const gw = await startGateway({ clock, env: { TOLLGATE_BREAKER_FAILURES: '2', TOLLGATE_BREAKER_WINDOW_MS: '10000', TOLLGATE_BREAKER_COOLDOWN_MS: '5000' } });
    const failing = await startFakeUpstream({ failStatus: 503 });
    const second = await startFakeUpstream();
    try {
      const primaryId = await addCredential(gw, 'primary', failing);
      const secondaryId = await addCredential(gw, 'secondary', second);
      await addRoute(gw, 'br-model', [{ credential_id: primaryId, priority: 1 }, { credential_id: secondaryId }]);
      const teamId = (await gw.api('POST', '/api/teams', { name: 'Breaker team' })).body.id;
      const key = (await gw.api('POST', `/api/teams/${teamId}/keys`, { name: 'breaker key' })).body.key;
      const ask = () => gw.openai(key).chat.completions.create({ model: 'br-model', messages: [{ role: 'user', content: 'hello' }] });
      const circuit = () => circuitState(gw, 'br-model', primaryId);

      await ask();
      assert.equal(await circuit(), 'closed', 'one failure of two');
      await ask();
      assert.equal(await circuit(), 'open', 'the second failure in a row opens it (the default needs five)');
      await ask();
      assert.equal(failing.requests.length, 2, 'open: the primary is skipped');
      clock.advance(4_000);
      assert.equal(await circuit(), 'open', 'still cooling down at 4 s (of 5)');
      clock.advance(1_001);
      assert.equal(await circuit(), 'half_open', 'probed after 5 s, not the default 30 s');
    } finally {
      await gw.close();
      await failing.close();
      await second.close();
    }
  });

  test('a setting below 1 stops start-up naming the variable', () => {
    for (const name of ['TOLLGATE_BREAKER_FAILURES', 'TOLLGATE_BREAKER_WINDOW_MS', 'TOLLGATE_BREAKER_COOLDOWN_MS']) {
      assert.throws(() => loadConfig({ TOLLGATE_DATA_DIR: '/tmp/tollgate-breaker-config', [name]: '0' }), (err: Error) => err.message.startsWith(`${name} must be an integer >= 1`));
    }
    assert.deepEqual(loadConfig({ TOLLGATE_DATA_DIR: '/tmp/tollgate-breaker-config' }).breaker, BREAKER_DEFAULTS);
  });
});
