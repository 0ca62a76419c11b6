// /api/routes: a public model name → deployments (credential, upstream model, weight, priority,
// own price) with the route's timeout and retries; the catch-all '*' is a route like any other.
// What an admin sees (prices and their source, circuit state), what is refused (each bad field
// named), and what /v1 does with it: the route's upstream model, an emptied route answering
// model_not_found instead of reaching the catch-all, a deleted route reaching it.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, dialectSkip, startGateway, UPSTREAM_KEY, type Gateway } from './support/gateway.ts';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.ts';
import { randomUUID } from 'node:crypto';
import { serviceSkip } from './support/services.ts';
import { clusterEnv, startReplica, type Replica } from './support/replicas.ts';

type Route = { id: number; model: string; catch_all: boolean; timeout_ms: number | null; retries: number | null; deployments: Deployment[] };
type Deployment = { id: number; credential_id: number; credential_name: string; provider: string; team_id: number | null; upstream_model: string | null; weight: number; priority: number; price: null | { input_per_1m_usd: number; output_per_1m_usd: number; cached_input_per_1m_usd: number | null; source: string }; circuit: string };

for (const dialect of DIALECTS) describe(`/api/routes (${dialect})`, { skip: dialectSkip(dialect) }, () => {
  let gw: Gateway;
  let second: FakeUpstream;
  let primaryId: number;
  let secondaryId: number;
  let teamCredentialId: number;
  let teamId: number;
  let keySecret: string;
  let routeId: number;

  before(async () => {
    gw = await startGateway({ dialect });
    second = await startFakeUpstream();
    const mk = async (body: Record<string, unknown>) => {
      const res = await gw.api('POST', '/api/providers', { provider: 'openai', api_key: `sk-routes-test-${Math.random().toString(36).slice(2)}`, ...body });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.id as number;
    };
    primaryId = await mk({ name: 'primary', base_url: gw.fake.baseUrl + '/v1', api_key: UPSTREAM_KEY, models: ['primary-only'] });
    secondaryId = await mk({ name: 'secondary', base_url: second.baseUrl + '/v1', models: ['secondary-only'] });
    teamId = (await gw.api('POST', '/api/teams', { name: 'Routes team' })).body.id;
    teamCredentialId = await mk({ name: 'team-only', base_url: second.baseUrl + '/v1', team_id: teamId, models: ['team-model'] });
    keySecret = (await gw.api('POST', `/api/teams/${teamId}/keys`, { name: 'routes key' })).body.key;
  });
  after(async () => {
    await gw?.close();
    await second?.close();
  });

  const list = async (): Promise<Route[]> => {
    const res = await gw.api('GET', '/api/routes');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.data;
  };
  const ask = (model: string) => gw.openai(keySecret).chat.completions.create({ model, messages: [{ role: 'user', content: 'hello' }] });

  test('the start-up credential serves an explicit catch-all route, listed like any other', async () => {
    const star = (await list()).find((r) => r.model === '*');
    assert.ok(star, 'the catch-all is listed');
    assert.equal(star.catch_all, true);
    assert.equal(star.deployments.length, 1);
    assert.equal(star.deployments[0]!.credential_name, 'openai');
    assert.equal(star.deployments[0]!.upstream_model, null, 'the catch-all sends the name asked for');
    assert.equal(star.deployments[0]!.circuit, 'closed');
    // Models named by a credential on creation have routes of their own.
    assert.ok((await list()).some((r) => r.model === 'primary-only' && r.deployments[0]!.credential_id === primaryId));
  });

  test('create: deployments in priority order, each with its price and where it comes from', async () => {
    const res = await gw.api('POST', '/api/routes', {
      model: 'gpt-4o',
      deployments: [
        { credential_id: secondaryId, upstream_model: 'gpt-4o-2024-08-06-custom', weight: 3, input_per_1m_usd: 1, output_per_1m_usd: 4, cached_input_per_1m_usd: 0.25 },
        { credential_id: primaryId, priority: 5 },
      ],
      timeout_ms: 30_000,
      retries: 1,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const route: Route = res.body;
    routeId = route.id;
    assert.equal(route.catch_all, false);
    assert.equal(route.timeout_ms, 30_000);
    assert.equal(route.retries, 1);
    assert.deepEqual(route.deployments.map((d) => d.credential_name), ['primary', 'secondary'], 'highest priority first');
    const [first, fallback] = route.deployments as [Deployment, Deployment];
    assert.equal(first.upstream_model, 'gpt-4o');
    assert.equal(first.price?.source, 'price_book');
    assert.equal(first.price?.input_per_1m_usd, 2.5);
    assert.deepEqual(fallback.price, { input_per_1m_usd: 1, output_per_1m_usd: 4, cached_input_per_1m_usd: 0.25, source: 'route' });
    assert.equal(fallback.weight, 3);
    assert.deepEqual((await gw.api('GET', `/api/routes/${routeId}`)).body, route);

    // The next /v1 request uses it: the primary (priority 5) answers, under the route's upstream model.
    gw.fake.reset();
    const answer = await ask('gpt-4o');
    assert.ok(answer.choices[0]?.message.content);
    assert.equal(gw.fake.requests.at(-1)?.body.model, 'gpt-4o');
  });

  test('an organization price (/api/prices) prices the deployments without one of their own at once', async () => {
    const put = await gw.api('PUT', '/api/prices/gpt-4o', { input_per_1m_usd: 9, output_per_1m_usd: 30 });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const route: Route = (await gw.api('GET', `/api/routes/${routeId}`)).body;
    const [first, fallback] = route.deployments as [Deployment, Deployment];
    assert.deepEqual(first.price, { input_per_1m_usd: 9, output_per_1m_usd: 30, cached_input_per_1m_usd: null, source: 'price_book' });
    assert.equal(fallback.price?.source, 'route', 'a deployment\'s own price still wins');
    assert.equal((await gw.api('DELETE', '/api/prices/gpt-4o')).status, 200);
    assert.equal(((await gw.api('GET', `/api/routes/${routeId}`)).body as Route).deployments[0]!.price?.input_per_1m_usd, 2.5);
  });

  test('bad input is refused naming the field', async () => {
    const other = (await gw.api('POST', '/api/orgs', { name: 'Other routes org' })).body.admin_key;
    const foreign = await gw.api('POST', '/api/providers', { name: 'theirs', provider: 'openai', base_url: second.baseUrl + '/v1', api_key: 'sk-their-own-provider-key', models: ['x'] }, other);
    assert.equal(foreign.status, 201, JSON.stringify(foreign.body));
    const cases: Array<[Record<string, unknown>, string, number?]> = [
      [{ model: 'a', deployments: [{ credential_id: 999_999 }] }, 'deployments[0].credential_id'],
      [{ model: 'a', deployments: [{ credential_id: primaryId }, { credential_id: foreign.body.id }] }, 'deployments[1].credential_id'],
      [{ model: 'a', deployments: [{ credential_id: primaryId, weight: 0 }] }, 'deployments[0].weight'],
      [{ model: 'a', deployments: [{ credential_id: primaryId }, { credential_id: primaryId }] }, 'deployments[1]'],
      [{ model: 'a', deployments: [{ credential_id: primaryId, input_per_1m_usd: 1 }] }, 'deployments[0].output_per_1m_usd'],
      [{ model: 'a', deployments: [{ credential_id: primaryId, cached_input_per_1m_usd: 1 }] }, 'deployments[0].input_per_1m_usd'],
      [{ model: 'a', deployments: [{ credential_id: primaryId, colour: 'red' }] }, 'deployments[0].colour'],
      [{ model: 'a', deployments: [], retries: 4 }, 'retries'],
      [{ model: 'a', deployments: [], timeout_ms: 10 }, 'timeout_ms'],
      [{ model: '', deployments: [] }, 'model'],
      [{ deployments: [] }, 'model'],
      [{ model: 'gpt-4o', deployments: [] }, 'model', 409],
    ];
    for (const [body, param, status = 400] of cases) {
      const res = await gw.api('POST', '/api/routes', body);
      assert.equal(res.status, status, `${JSON.stringify(body)} → ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.param, param, JSON.stringify(res.body));
    }
    // The catch-all passes the name asked for and is priced by the price book, per model.
    const star = (await list()).find((r) => r.model === '*')!;
    const starUpstream = await gw.api('PATCH', `/api/routes/${star.id}`, { deployments: [{ credential_id: primaryId, upstream_model: 'gpt-4o' }] });
    assert.equal(starUpstream.body.error.param, 'deployments[0].upstream_model');
    const starPrice = await gw.api('PATCH', `/api/routes/${star.id}`, { deployments: [{ credential_id: primaryId, input_per_1m_usd: 1, output_per_1m_usd: 1 }] });
    assert.equal(starPrice.body.error.param, 'deployments[0].input_per_1m_usd');
    assert.equal((await gw.api('PATCH', `/api/routes/${routeId}`, {})).body.error.param, 'body');
    assert.equal((await gw.api('GET', '/api/routes/999999')).status, 404);
    // Nothing was created by the refused requests.
    assert.ok(!(await list()).some((r) => r.model === 'a'));
  });

  test('a team-scoped credential may serve a route: only that team\'s keys reach it', async () => {
    const res = await gw.api('POST', '/api/routes', { model: 'team-routed', deployments: [{ credential_id: teamCredentialId }] });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.deployments[0].team_id, teamId);
    second.reset();
    await ask('team-routed');
    assert.equal(second.requests.length, 1);
    // A key of another team: this model has no deployment for it.
    const otherTeam = (await gw.api('POST', '/api/teams', { name: 'Not the routes team' })).body.id;
    const outsider = (await gw.api('POST', `/api/teams/${otherTeam}/keys`, { name: 'outsider' })).body.key;
    await assert.rejects(gw.openai(outsider).chat.completions.create({ model: 'team-routed', messages: [{ role: 'user', content: 'hi' }] }), (err: { status?: number; code?: string }) => err.status === 404 && err.code === 'model_not_found');
    assert.equal(second.requests.length, 1, 'the team credential was not used for another team');
  });

  test('patch replaces the deployments as a whole; an emptied route answers model_not_found, never the catch-all', async () => {
    const res = await gw.api('PATCH', `/api/routes/${routeId}`, { deployments: [{ credential_id: secondaryId, upstream_model: 'served-by-second' }], timeout_ms: null });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.timeout_ms, null);
    assert.equal(res.body.retries, 1, 'left as it was');
    assert.deepEqual(res.body.deployments.map((d: Deployment) => [d.credential_name, d.upstream_model]), [['secondary', 'served-by-second']]);
    second.reset();
    await ask('gpt-4o');
    assert.equal(second.requests.at(-1)?.body.model, 'served-by-second');

    assert.equal((await gw.api('PATCH', `/api/routes/${routeId}`, { deployments: [] })).status, 200);
    gw.fake.reset();
    second.reset();
    await assert.rejects(ask('gpt-4o'), (err: { status?: number; code?: string }) => err.status === 404 && err.code === 'model_not_found');
    assert.equal(gw.fake.requests.length + second.requests.length, 0, 'no upstream was called (the catch-all included)');
  });

  test('delete removes the route and its deployments: the model then reaches the catch-all (the admin chose so)', async () => {
    const res = await gw.api('DELETE', `/api/routes/${routeId}`);
    assert.deepEqual(res.body, { id: routeId, model: 'gpt-4o', deleted: true });
    assert.ok(!(await list()).some((r) => r.model === 'gpt-4o'));
    gw.fake.reset();
    await ask('gpt-4o');
    assert.equal(gw.fake.requests.length, 1, 'the catch-all (start-up credential) served it');
    assert.equal((await gw.api('DELETE', `/api/routes/${routeId}`)).status, 404);
  });

  test('every change is audited as route.*', async () => {
    const events = (await gw.api('GET', `/api/audit?action=route.*&limit=50`)).body.data as Array<{ action: string; target_id: string | number }>;
    const actions = events.filter((e) => String(e.target_id) === String(routeId)).map((e) => e.action).sort();
    assert.deepEqual(actions, ['route.create', 'route.delete', 'route.update', 'route.update']);
  });
});

// Two Tollgate processes on one PostgreSQL and one Redis: a route changed through replica A is
// what replica B uses for its very next request, its routes already warm (no restart, no wait
// beyond the pub/sub hop).
describe('route changes reach every replica', { skip: serviceSkip('postgres') || serviceSkip('redis') }, () => {
  const admin = `admin-${randomUUID()}`;
  const upstreamKey = 'sk-upstream-routes-replicas';
  let a: Replica;
  let b: Replica;
  let fake: FakeUpstream;
  let other: FakeUpstream;

  before(async () => {
    fake = await startFakeUpstream({ requireAuth: upstreamKey });
    other = await startFakeUpstream();
    const env = await clusterEnv(admin, upstreamKey, fake.baseUrl);
    [a, b] = await Promise.all([startReplica('a', env, admin), startReplica('b', env, admin)]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await fake?.close();
    await other?.close();
  });

  test('create, repoint and empty a route through A; B follows each change', async () => {
    const team = (await a.api('POST', '/api/teams', { name: `Replica routes ${randomUUID()}` })).body;
    const key = (await a.api('POST', `/api/teams/${team.id}/keys`, { name: 'replica key' })).body.key as string;
    const model = `replica-model-${randomUUID()}`;
    const ask = () => b.openai(key).chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).then(() => 200, (err: { status?: number }) => err.status);
    // B warm, serving the model through the catch-all (the start-up credential).
    fake.reset();
    assert.equal(await ask(), 200);
    assert.equal(fake.requests.length, 1);
    const cred = (await a.api('POST', '/api/providers', { name: `other-${randomUUID()}`, provider: 'openai', base_url: other.baseUrl + '/v1', api_key: 'sk-routes-replica-other-0000', models: ['replica-unused'] })).body.id;
    const route = await a.api('POST', '/api/routes', { model, deployments: [{ credential_id: cred }] });
    assert.equal(route.status, 201, JSON.stringify(route.body));
    const until = async (check: () => boolean, what: string) => {
      for (const deadline = Date.now() + 5000; !check(); ) {
        assert.ok(Date.now() < deadline, `replica B: ${what}`);
        await ask();
      }
    };
    other.reset();
    await ask();
    await until(() => other.requests.length > 0, 'the new route was not used');
    assert.equal((await a.api('PATCH', `/api/routes/${route.body.id}`, { deployments: [] })).status, 200);
    let last: number | undefined;
    for (const deadline = Date.now() + 5000; (last = await ask()) !== 404; ) assert.ok(Date.now() < deadline, `replica B still answers ${last}`);
  });
});
