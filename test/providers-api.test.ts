// Provider credentials after creation: PATCH (name, base URL, models; the same SSRF check as
// create), POST …/rotate (a new secret, re-encrypted, used by the very next /v1 request, never
// shown back nor written in the audit trail), and GET /api/models (routes and prices); and
// GET /api/audit/verify, the dashboard's "Verify chain" (admins only).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, dialectSkip, startGateway, type Gateway } from './support/gateway.ts';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.ts';
import { sql } from 'kysely';

const OLD_SECRET = 'sk-provider-old-secret-1111AAAA';
const NEW_SECRET = 'sk-provider-new-secret-2222BBBB';

for (const dialect of DIALECTS) describe(`provider credentials: edit, rotate, models (${dialect})`, { skip: dialectSkip(dialect) }, () => {
  let gw: Gateway;
  let upstream: FakeUpstream;
  let providerId: number;
  let keySecret: string;

  before(async () => {
    gw = await startGateway({ dialect });
    // A second upstream that accepts any credential and records the Authorization header it got.
    upstream = await startFakeUpstream();
    const created = await gw.api('POST', '/api/providers', { name: 'routed', provider: 'openai', base_url: upstream.baseUrl + '/v1', api_key: OLD_SECRET, models: ['routed-model'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    providerId = created.body.id;
    const team = (await gw.api('POST', '/api/teams', { name: 'Routing team' })).body;
    keySecret = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'routing key' })).body.key;
  });
  after(async () => {
    await gw?.close();
    await upstream?.close();
  });

  const ask = (model: string) => gw.openai(keySecret).chat.completions.create({ model, messages: [{ role: 'user', content: 'hello' }] });
  const lastAuthorization = () => upstream.requests.at(-1)?.headers.authorization;

  test('rotate: the next request goes out with the new secret; the answer shows only its last four characters', async () => {
    await ask('routed-model');
    assert.equal(lastAuthorization(), `Bearer ${OLD_SECRET}`);

    const rotated = await gw.api('POST', `/api/providers/${providerId}/rotate`, { api_key: NEW_SECRET });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.equal(rotated.body.api_key_hint, '...BBBB');
    const text = JSON.stringify(rotated.body);
    assert.ok(!text.includes(OLD_SECRET) && !text.includes(NEW_SECRET), 'no secret in the answer');

    await ask('routed-model');
    assert.equal(lastAuthorization(), `Bearer ${NEW_SECRET}`);

    const list = await gw.api('GET', '/api/providers');
    const listed = list.body.data.find((p: { id: number }) => p.id === providerId);
    assert.equal(listed.api_key_hint, '...BBBB');
    assert.ok(!JSON.stringify(list.body).includes(NEW_SECRET));
  });

  test('the rotation is audited as provider.rotate with hints only; no secret anywhere in the trail', async () => {
    const events = await gw.api('GET', `/api/audit?action=provider.rotate&target_id=${providerId}`);
    assert.equal(events.status, 200);
    assert.equal(events.body.data.length, 1);
    assert.deepEqual(events.body.data[0].before, { api_key_hint: '...AAAA' });
    assert.deepEqual(events.body.data[0].after, { api_key_hint: '...BBBB' });
    const trail = JSON.stringify((await gw.api('GET', '/api/audit?action=provider.*&limit=200')).body);
    assert.ok(!trail.includes(OLD_SECRET) && !trail.includes(NEW_SECRET), 'no secret in the audit trail');
  });

  test('rotate and edit refuse bad input naming the field, and an unknown credential is a 404', async () => {
    const emptyKey = await gw.api('POST', `/api/providers/${providerId}/rotate`, { api_key: '' });
    assert.equal(emptyKey.status, 400);
    assert.equal(emptyKey.body.error.param, 'api_key');
    const nothing = await gw.api('PATCH', `/api/providers/${providerId}`, {});
    assert.equal(nothing.status, 400);
    const noModels = await gw.api('PATCH', `/api/providers/${providerId}`, { models: [] });
    assert.equal(noModels.body.error.param, 'models');
    const badUrl = await gw.api('PATCH', `/api/providers/${providerId}`, { base_url: 'ftp://example.com' });
    assert.equal(badUrl.body.error.param, 'base_url');
    // The same SSRF guard as create: an internal address is refused before anything is stored.
    const internal = await gw.api('PATCH', `/api/providers/${providerId}`, { base_url: 'http://169.254.169.254/v1' });
    assert.equal(internal.status, 400);
    assert.equal(internal.body.error.param, 'base_url');
    assert.equal((await gw.api('PATCH', '/api/providers/999999', { name: 'x' })).status, 404);
    assert.equal((await gw.api('POST', '/api/providers/999999/rotate', { api_key: 'sk-x' })).status, 404);
  });

  test('edit: name, base URL and models change; the routes follow at once; audited as provider.update', async () => {
    const res = await gw.api('PATCH', `/api/providers/${providerId}`, { name: 'routed (renamed)', models: ['routed-model', 'gpt-4o-mini'] });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.name, 'routed (renamed)');
    assert.deepEqual([...res.body.models].sort(), ['gpt-4o-mini', 'routed-model']);
    upstream.reset();
    await ask('gpt-4o-mini');
    assert.equal(upstream.requests.length, 1, 'the new route is used by the next request');
    const event = (await gw.api('GET', `/api/audit?action=provider.update&target_id=${providerId}`)).body.data[0];
    assert.equal(event.before.name, 'routed');
    assert.equal(event.after.name, 'routed (renamed)');
  });

  test('create: any registry provider, its default base URL, settings checked against the provider, a team-scoped credential', async () => {
    const kinds = (await gw.api('GET', '/api/providers/kinds')).body.data as Array<{ id: string; default_base_url: string | null; options: Array<{ name: string; required: boolean }> }>;
    for (const id of ['openai', 'anthropic', 'openai-compatible']) assert.ok(kinds.some((k) => k.id === id), `${id} is offered`);
    assert.ok(!kinds.some((k) => k.id === 'demo'), 'the demo provider is never stored');
    const key = 'sk-provider-kinds-test-3333CCCC';
    const refused: Array<[Record<string, unknown>, string]> = [
      [{ provider: 'no-such-provider' }, 'provider'],
      [{ provider: 'openai-compatible' }, 'base_url'],
      [{ provider: 'openai', options: { api_version: '2024-10-21' } }, 'options.api_version'],
      [{ provider: 'openai', team_id: 999_999 }, 'team_id'],
    ];
    const azure = kinds.find((k) => k.id === 'azure');
    if (azure) {
      refused.push([{ provider: 'azure', base_url: upstream.baseUrl + '/openai' }, 'options.api_version']);
      refused.push([{ provider: 'azure', base_url: upstream.baseUrl + '/openai', options: { api_version: 'yesterday' } }, 'options.api_version']);
    }
    for (const [body, param] of refused) {
      const res = await gw.api('POST', '/api/providers', { name: 'kinds', api_key: key, models: ['kinds-model'], ...body });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.param, param, JSON.stringify(res.body));
      assert.ok(!JSON.stringify(res.body).includes(key));
    }
    const anthropic = await gw.api('POST', '/api/providers', { name: 'anthropic-default', provider: 'anthropic', api_key: key, models: ['claude-kinds'] });
    assert.equal(anthropic.status, 201, JSON.stringify(anthropic.body));
    assert.equal(anthropic.body.base_url, kinds.find((k) => k.id === 'anthropic')!.default_base_url);
    const team = (await gw.api('POST', '/api/teams', { name: 'Scoped credential team' })).body;
    const scoped = await gw.api('POST', '/api/providers', { name: 'team-scoped', provider: 'openai', base_url: upstream.baseUrl + '/v1', api_key: key, team_id: team.id, models: ['claude-kinds'] });
    assert.equal(scoped.status, 201, JSON.stringify(scoped.body));
    assert.equal(scoped.body.team_id, team.id);
    // The second credential naming the same model joins its route as one more deployment.
    const route = (await gw.api('GET', '/api/routes')).body.data.find((r: { model: string }) => r.model === 'claude-kinds');
    assert.deepEqual(route.deployments.map((d: { credential_name: string }) => d.credential_name).sort(), ['anthropic-default', 'team-scoped']);
    for (const id of [anthropic.body.id, scoped.body.id]) await gw.api('DELETE', `/api/providers/${id}`);
  });

  test('GET /api/models: each routed model, its credential and its price per 1M tokens', async () => {
    const res = await gw.api('GET', '/api/models');
    assert.equal(res.status, 200);
    const mini = res.body.data.find((r: { model: string; credential_id: number }) => r.model === 'gpt-4o-mini' && r.credential_id === providerId);
    assert.equal(mini.credential_name, 'routed (renamed)');
    // The shipped price book knows gpt-4o-mini's cached-input price.
    assert.deepEqual(mini.price, { input_per_1m_usd: 0.15, output_per_1m_usd: 0.6, cached_input_per_1m_usd: 0.075, source: 'price_book' });
    assert.equal(typeof mini.route_id, 'number');
    const unpriced = res.body.data.find((r: { model: string }) => r.model === 'routed-model');
    assert.equal(unpriced.price, null);
    assert.ok(res.body.price_book.some((p: { model: string; input_per_1m_usd: number }) => p.model === 'gpt-4o' && p.input_per_1m_usd === 2.5));
    // /api/prices edits the organization's prices.
    assert.equal(res.body.price_book_editable, true);
  });

  test('delete: the credential and its deployments are gone; its routes stay, answering model_not_found', async () => {
    assert.equal((await gw.api('DELETE', `/api/providers/${providerId}`)).status, 200);
    const models = (await gw.api('GET', '/api/models')).body.data;
    assert.ok(!models.some((r: { credential_id: number }) => r.credential_id === providerId));
    const routes = (await gw.api('GET', '/api/routes')).body.data;
    assert.deepEqual(routes.find((r: { model: string }) => r.model === 'routed-model')?.deployments, []);
    assert.equal((await gw.api('POST', `/api/providers/${providerId}/rotate`, { api_key: 'sk-x' })).status, 404);
  });
});

for (const dialect of DIALECTS) describe(`GET /api/audit/verify (${dialect})`, { skip: dialectSkip(dialect) }, () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway({ dialect });
    await gw.api('POST', '/api/teams', { name: 'Chained' });
    await gw.api('POST', '/api/providers', { name: 'chained', provider: 'openai', base_url: 'http://127.0.0.1:9/v1', api_key: 'sk-chained-provider-0123', models: ['m'] });
  });
  after(() => gw?.close());

  test('an intact chain is ok, with its length and head; an edited event is named with its problem', async () => {
    const good = await gw.api('GET', '/api/audit/verify');
    assert.equal(good.status, 200, JSON.stringify(good.body));
    assert.equal(good.body.ok, true);
    assert.ok(good.body.events >= 2);
    assert.match(good.body.head, /^[0-9a-f]{64}$/);

    const db = gw.runtime.deps.db.kysely;
    const victim = (await db.selectFrom('audit_events').selectAll().where('action', '=', 'team.create').executeTakeFirstOrThrow());
    await db.transaction().execute(async (trx) => {
      // PostgreSQL refuses to edit the trail unless maintenance is switched on for the transaction.
      if (dialect === 'postgres') await sql`set local tollgate.audit_maintenance = 'on'`.execute(trx);
      await trx.updateTable('audit_events').set({ after: '{"name":"innocent"}' }).where('id', '=', victim.id).execute();
    });
    const broken = (await gw.api('GET', '/api/audit/verify')).body;
    assert.equal(broken.ok, false);
    assert.equal(broken.event_id, victim.id);
    assert.equal(broken.problem, 'hash_mismatch');
    assert.match(broken.detail, /edited/);
  });

  test('a viewer may read the trail but not run the verification (admins only)', async () => {
    const viewer = (await gw.api('POST', '/api/management-keys', { name: 'auditor', role: 'viewer' })).body.key;
    assert.equal((await gw.api('GET', '/api/audit', undefined, viewer)).status, 200);
    const refused = await gw.api('GET', '/api/audit/verify', undefined, viewer);
    assert.equal(refused.status, 403);
  });
});
