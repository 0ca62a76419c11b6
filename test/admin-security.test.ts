// Every admin route (/api, and /internal: seed 001's paths), generated from the app's route table, gets the same security checks:
// no credential, wrong credential, a /v1 key (insufficient role), another tenant's admin key.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, dialectSkip, startGateway, type Gateway } from './support/gateway.ts';
import { generateKey } from '../src/keys/key-format.ts';

for (const dialect of DIALECTS) describe(`admin API security, every route (${dialect})`, { skip: dialectSkip(dialect) }, () => {
  let gw: Gateway;
  let ids: Record<string, number>;
  let teamKeySecret: string;
  let otherAdmin: string;
  let routes: Array<{ method: string; url: string }>;

  before(async () => {
    gw = await startGateway({ dialect });
    const team = (await gw.api('POST', '/api/teams', { name: 'Victim team' })).body;
    const key = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'victim key' })).body;
    const user = (await gw.api('POST', '/api/users', { external_id: 'victim@example.com' })).body;
    const provider = (await gw.api('POST', '/api/providers', { name: 'victim provider', provider: 'openai', base_url: 'http://127.0.0.1:9/v1', api_key: 'sk-victim-provider', models: ['m'] })).body;
    const sa = (await gw.api('POST', `/api/teams/${team.id}/service-accounts`, { name: 'victim robot' })).body;
    await gw.api('PUT', `/api/teams/${team.id}/members/${user.id}`, { allocation_usd: 10 });
    // An access group the victim's team and key are restricted to (a leak would show its name).
    const group = (await gw.api('POST', '/api/access-groups', { name: 'Victim group', models: ['gpt-4o'] })).body;
    assert.equal((await gw.api('PATCH', `/api/teams/${team.id}`, { access_groups: [group.id] })).status, 200);
    assert.equal((await gw.api('PATCH', `/api/keys/${key.id}`, { access_groups: [group.id] })).status, 200);
    // Rotated with a grace period: the victim key has an older secret, so /secrets/:secretId names a real one.
    const rotated = (await gw.api('POST', `/api/keys/${key.id}/rotate`, { grace_period_seconds: 3600 })).body;
    const mkey = (await gw.api('POST', '/api/management-keys', { name: 'Victim automation', role: 'admin' })).body;
    const invitation = (await gw.api('POST', '/api/invitations', { email: 'victim-invitee@example.com', team_id: team.id })).body;
    // A provisioned upstream key of the victim user, stored directly (its provider is unreachable).
    const at = new Date().toISOString();
    const provisioned = await gw.runtime.deps.db.kysely.insertInto('provisioned_keys').values({ org_id: 1, team_id: team.id, user_id: user.id, credential_id: provider.id, provider: 'openrouter-provisioning', upstream_id: 'victim-provisioned', name: 'Victim provisioned key', secret_hint: '...abcd', limit_micro: 1_000_000, expires_at: null, status: 'active', created_at: at, updated_at: at, deleted_at: null }).returning('id').executeTakeFirstOrThrow();
    // The victim's own price for a model name: another tenant's PUT/DELETE on that name acts on its own organization.
    assert.equal((await gw.api('PUT', '/api/prices/gpt-4o', { input_per_1m_usd: 1, output_per_1m_usd: 2, note: 'Victim price' })).status, 200);
    // The provider's model 'm' has a route of its own (/api/routes/:id).
    const route = (await gw.api('GET', '/api/routes')).body.data.find((r: { model: string }) => r.model === 'm');
    ids = { team: team.id, key: key.id, user: user.id, provider: provider.id, route: route.id, org: 1, sa: sa.id, group: group.id, secret: rotated.previous_secret.id, mkey: mkey.id, invitation: invitation.id };
    ids.provisioned = provisioned.id;
    teamKeySecret = rotated.key;
    otherAdmin = (await gw.api('POST', '/api/orgs', { name: 'Attacker Inc' })).body.admin_key;
    // Public routes (sign-in, invitation acceptance, OIDC) take no credential: they have their own tests.
    routes = gw.runtime.app.routeTable.filter((r) => (r.url.startsWith('/api/') || r.url.startsWith('/internal/')) && !r.public);
    assert.ok(routes.length >= 50, `found ${routes.length} admin routes`);
    assert.equal(routes.filter((r) => r.url.startsWith('/internal/')).length, 7, 'seed 001\'s /internal routes get the same checks');
  });
  after(() => gw?.close());

  const fill = (url: string) =>
    url
      .replace(/^\/internal\/api-keys\/:id/, `/internal/api-keys/ak_${ids.key}`)
      .replace(/\/teams\/:id/, `/teams/${ids.team}`)
      .replace(/:keyId/, String(ids.key))
      .replace(/\/keys\/:id/, `/keys/${ids.key}`)
      .replace(/\/users\/:id/, `/users/${ids.user}`)
      .replace(/\/providers\/:id/, `/providers/${ids.provider}`)
      .replace(/\/routes\/:id/, `/routes/${ids.route}`)
      .replace(/\/orgs\/:id/, `/orgs/${ids.org}`)
      .replace(/\/service-accounts\/:id/, `/service-accounts/${ids.sa}`)
      .replace(/\/access-groups\/:id/, `/access-groups/${ids.group}`)
      .replace(/\/management-keys\/:id/, `/management-keys/${ids.mkey}`)
      .replace(/\/invitations\/:id/, `/invitations/${ids.invitation}`)
      .replace(/\/provisioned-keys\/:id/, `/provisioned-keys/${ids.provisioned}`)
      .replace(/\/prices\/:model/, '/prices/gpt-4o')
      .replace(/:userId/, String(ids.user))
      .replace(/:saId/, String(ids.sa))
      .replace(/:secretId/, String(ids.secret))
      .replace(/:[a-zA-Z]+/g, '1');
  const body = (method: string) => (method === 'GET' || method === 'DELETE' ? undefined : {});

  test('no credential → 401 missing_credentials', async () => {
    for (const r of routes) {
      const res = await gw.api(r.method, fill(r.url), body(r.method), null);
      assert.equal(res.status, 401, `${r.method} ${r.url}`);
      assert.equal(res.body.error.code, 'missing_credentials', `${r.method} ${r.url}`);
    }
  });

  test('wrong credential → 401 invalid_api_key (and a well-formed unknown admin key too)', async () => {
    for (const r of routes) {
      for (const cred of ['wrong-admin-key', 'sk-tga-' + generateKey().slice(6), generateKey()]) {
        const res = await gw.api(r.method, fill(r.url), body(r.method), cred);
        assert.equal(res.status, 401, `${r.method} ${r.url} with ${cred.slice(0, 7)}`);
        assert.equal(res.body.error.type, 'authentication_error');
      }
    }
  });

  test('a /v1 team key is not an admin credential → 403', async () => {
    for (const r of routes) {
      const res = await gw.api(r.method, fill(r.url), body(r.method), teamKeySecret);
      assert.equal(res.status, 403, `${r.method} ${r.url}`);
      assert.equal(res.body.error.code, 'forbidden');
    }
  });

  test("another tenant's admin key cannot read or change this tenant's objects", async () => {
    for (const r of routes) {
      const res = await gw.api(r.method, fill(r.url), body(r.method), otherAdmin);
      const text = JSON.stringify(res.body);
      // /api/prices/:model names a model, not an object: like an unparameterised route it acts inside the caller's org.
      if (r.url.includes(':') && r.url !== '/api/prices/:model') {
        assert.ok(res.status === 404 || res.status === 403, `${r.method} ${r.url} → ${res.status} ${text}`);
      } else {
        // Unparameterised routes act inside the caller's own org: creating there is fine, but no
        // listing may show the victim's objects.
        assert.ok(!/[Vv]ictim/.test(text), `${r.method} ${r.url} leaked: ${text}`);
        if (r.url === '/api/orgs') assert.equal(res.status, 403, 'only the master key manages organizations');
      }
    }
    // …and the victim's objects are untouched.
    const team = await gw.api('GET', `/api/teams/${ids.team}`);
    assert.equal(team.status, 200);
    assert.equal(team.body.keys[0].status, 'active');
    assert.equal((await gw.api('GET', `/api/teams/${ids.team}/members`)).body.data[0].allocation_usd, 10);
    assert.equal((await gw.api('GET', `/api/teams/${ids.team}/service-accounts`)).body.data.length, 1);
    assert.deepEqual((await gw.api('GET', `/api/access-groups/${ids.group}`)).body.models, ['gpt-4o']);
    assert.equal((await gw.api('GET', '/api/invitations')).body.data.find((i: any) => i.id === ids.invitation).status, 'pending', 'not revoked by another tenant');
    assert.equal((await gw.api('GET', `/api/management-keys/${ids.mkey}`)).body.status, 'active');
    const provisioned = await gw.runtime.deps.db.kysely.selectFrom('provisioned_keys').selectAll().where('id', '=', ids.provisioned!).executeTakeFirstOrThrow();
    assert.equal(provisioned.deleted_at, null, 'the provisioned key not revoked by another tenant');
    assert.equal((await gw.api('GET', '/api/prices?source=organization')).body.data[0]?.note, 'Victim price', 'not changed or deleted by another tenant');
    assert.deepEqual((await gw.api('GET', `/api/keys/${ids.key}`)).body.access_groups, [ids.group]);
    assert.deepEqual((await gw.api('GET', `/api/keys/${ids.key}/secrets`)).body.data.map((s: any) => s.status), ['current', 'grace'], 'not rotated, its older secret not ended');
    const ok = await gw.openai(teamKeySecret).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'still works' }] });
    assert.equal(ok.object, 'chat.completion');
  });

  test('secrets never appear after creation: not in listings, audit log or errors', async () => {
    const listing = JSON.stringify([(await gw.api('GET', `/api/teams/${ids.team}/keys`)).body, (await gw.api('GET', '/api/keys')).body, (await gw.api('GET', '/internal/api-keys')).body, (await gw.api('GET', '/api/providers')).body]);
    assert.ok(!listing.includes(teamKeySecret));
    assert.ok(!listing.includes('sk-victim-provider'));
    const audit = await gw.runtime.deps.db.kysely.selectFrom('audit_events').selectAll().execute();
    const auditText = JSON.stringify(audit);
    assert.ok(audit.length >= 4);
    assert.ok(!auditText.includes(teamKeySecret) && !auditText.includes('sk-victim-provider'));
    const stored = JSON.stringify(await gw.runtime.deps.db.kysely.selectFrom('provider_credentials').selectAll().execute());
    assert.ok(!stored.includes('sk-victim-provider'), 'provider credentials are encrypted at rest');
    const keys = JSON.stringify(await gw.runtime.deps.db.kysely.selectFrom('api_keys').selectAll().execute());
    assert.ok(!keys.includes(teamKeySecret), 'API keys are stored hashed');
  });
});
