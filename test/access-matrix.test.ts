// The asset boundary on the running server, both dialects (issue 9, seeds 002 and 004): a table of
// inherit / narrow / blocklist rules across org, team and key, each row asserting what
// /v1/chat/completions answers for every routed model (200, or 403 model_not_allowed with
// param "model", nothing reaching the upstream, the refusal in the team's logs), what /v1/models
// lists, and that GET /api/keys/{id}/access and GET /v1/key name the level that removed each model.
// Then: changes under a warm key (a group's models, a team's rule), a pattern group granting a
// model routed later, and writes that would widen the level above (400 naming the field).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, dialectSkip, startGateway, UPSTREAM_KEY, type Gateway } from './support/gateway.ts';

/** Every model the org routes (one explicit provider, no catch-all: /v1/models is exactly this). */
const ROUTED = ['gpt-4o', 'gpt-4o-mini', 'o1', 'o1-pro', 'claude-3-haiku', 'text-embedding-3-small'];

type Level = 'org' | 'team' | 'key';
type Rule = { models?: string[]; access_groups?: string[]; blocked_models?: string[] };
/** expected answer per routed model: 'ok', or who removed it and why */
type Outcome = 'ok' | `${Level}:${'not_in_allowlist' | 'blocked'}`;

interface Row {
  name: string;
  org: Rule;
  team: Rule;
  key: Rule;
  expect: Record<string, Outcome>;
}

// Groups, by name (ids are resolved per run).
const GROUPS: Record<string, string[]> = {
  cheap: ['gpt-4o-mini', 'claude-3-haiku'],
  openai: ['gpt-4o*', 'o1*'],
  embeddings: ['text-embedding-*'],
};

const all = (o: Outcome): Record<string, Outcome> => Object.fromEntries(ROUTED.map((m) => [m, o]));

const MATRIX: Row[] = [
  { name: 'everything inherits: every routed model', org: {}, team: {}, key: {}, expect: all('ok') },
  {
    name: 'org narrows by names and a pattern; team and key inherit',
    org: { models: ['gpt-4o*', 'o1'] }, team: {}, key: {},
    expect: { ...all('org:not_in_allowlist'), 'gpt-4o': 'ok', 'gpt-4o-mini': 'ok', o1: 'ok' },
  },
  {
    name: 'team narrows to an access group; key inherits the team',
    org: {}, team: { access_groups: ['cheap'] }, key: {},
    expect: { ...all('team:not_in_allowlist'), 'gpt-4o-mini': 'ok', 'claude-3-haiku': 'ok' },
  },
  {
    name: 'key narrows inside a team restricted by a pattern group',
    org: {}, team: { access_groups: ['openai'] }, key: { models: ['gpt-4o-mini', 'o1'] },
    expect: { ...all('key:not_in_allowlist'), 'claude-3-haiku': 'team:not_in_allowlist', 'text-embedding-3-small': 'team:not_in_allowlist', 'gpt-4o-mini': 'ok', o1: 'ok' },
  },
  {
    name: 'org blocklist over levels that inherit',
    org: { blocked_models: ['o1-pro'] }, team: {}, key: {},
    expect: { ...all('ok'), 'o1-pro': 'org:blocked' },
  },
  {
    name: "team blocklist wins over the key's own pattern",
    org: {}, team: { blocked_models: ['gpt-4o'] }, key: { models: ['gpt-4o*'] },
    expect: { ...all('key:not_in_allowlist'), 'gpt-4o': 'team:blocked', 'gpt-4o-mini': 'ok' },
  },
  {
    name: 'key blocklist (a pattern) inside an org restricted to a group',
    org: { access_groups: ['openai'] }, team: {}, key: { blocked_models: ['o1*'] },
    expect: { ...all('org:not_in_allowlist'), 'gpt-4o': 'ok', 'gpt-4o-mini': 'ok', o1: 'key:blocked', 'o1-pro': 'key:blocked' },
  },
  {
    name: 'all three narrow, and the key blocks one of its own',
    org: { models: ['gpt-4o*', 'o1*', 'claude-3-haiku'] },
    team: { access_groups: ['cheap'], models: ['o1'] },
    key: { models: ['claude-3-haiku', 'o1'], blocked_models: ['o1'] },
    expect: {
      'gpt-4o': 'team:not_in_allowlist', 'gpt-4o-mini': 'key:not_in_allowlist', o1: 'key:blocked', 'o1-pro': 'team:not_in_allowlist',
      'claude-3-haiku': 'ok', 'text-embedding-3-small': 'org:not_in_allowlist',
    },
  },
  {
    name: 'a key restricted to nothing (an empty list) may call nothing',
    org: {}, team: {}, key: { models: [] },
    expect: all('key:not_in_allowlist'),
  },
];

for (const dialect of DIALECTS) {
  describe(`access matrix: org → team → key (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let gw: Gateway;
    const groupIds: Record<string, number> = {};
    const rule = (r: Rule) => ({ ...r, ...(r.access_groups ? { access_groups: r.access_groups.map((g) => groupIds[g]) } : {}) });
    const chats = () => gw.fake.requests.filter((r) => r.path.endsWith('/chat/completions')).length;

    before(async () => {
      gw = await startGateway({ dialect });
      // Replace the bootstrap catch-all by explicit routes, so the routed set is known exactly.
      for (const p of (await gw.api('GET', '/api/providers')).body.data) await gw.api('DELETE', `/api/providers/${p.id}`);
      const provider = await gw.api('POST', '/api/providers', { name: 'fake', provider: 'openai', base_url: gw.fake.baseUrl + '/v1', api_key: UPSTREAM_KEY, models: ROUTED });
      assert.equal(provider.status, 201, JSON.stringify(provider.body));
      for (const [name, models] of Object.entries(GROUPS)) groupIds[name] = (await gw.api('POST', '/api/access-groups', { name, models })).body.id;
    });
    after(() => gw?.close());

    for (const row of MATRIX) {
      test(row.name, async () => {
        const org = await gw.api('PUT', '/api/orgs/current/access', rule(row.org));
        assert.equal(org.status, 200, JSON.stringify(org.body));
        const team = await gw.api('POST', '/api/teams', { name: `matrix ${row.name}`, ...rule(row.team) });
        assert.equal(team.status, 201, JSON.stringify(team.body));
        const key = await gw.api('POST', `/api/teams/${team.body.id}/keys`, { name: 'matrix key', ...rule(row.key) });
        assert.equal(key.status, 201, JSON.stringify(key.body));
        const client = gw.openai(key.body.key);

        for (const model of ROUTED) {
          const expected = row.expect[model]!;
          const before = chats();
          if (expected === 'ok') {
            const res = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
            assert.equal(res.object, 'chat.completion', model);
            assert.equal(chats(), before + 1, `${model} reached the upstream`);
          } else {
            const [level] = expected.split(':');
            await assert.rejects(client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }), (err: any) => {
              assert.equal(err.status, 403, `${model}: ${err.message}`);
              assert.equal(err.code, 'model_not_allowed');
              assert.equal(err.param, 'model');
              assert.equal(err.type, 'permission_error');
              assert.match(err.message, new RegExp(`the ${level}`), err.message);
              return true;
            }, model);
            assert.equal(chats(), before, `${model}: nothing reaches the upstream on a 403`);
          }
        }

        const listed = (await client.models.list()).data.map((m) => m.id).sort();
        assert.deepEqual(listed, ROUTED.filter((m) => row.expect[m] === 'ok').sort(), '/v1/models lists exactly what the key may call');

        // The explanation agrees with the enforcement, for the admin and for the key itself.
        const explained = await gw.api('GET', `/api/keys/${key.body.id}/access`);
        assert.equal(explained.status, 200);
        assert.deepEqual(explained.body.levels.map((l: any) => l.level), ['org', 'team', 'key']);
        const self = await fetch(`${gw.url}/v1/key`, { headers: { authorization: `Bearer ${key.body.key}` } }).then((r) => r.json() as Promise<any>);
        for (const source of [explained.body.models, self.data.access.models]) {
          const byId = new Map(source.map((m: any) => [m.id, m]));
          for (const model of ROUTED) {
            const m: any = byId.get(model);
            const expected = row.expect[model]!;
            if (expected === 'ok') assert.deepEqual([m.allowed, m.removed_by], [true, undefined], model);
            else assert.deepEqual([m.allowed, `${m.removed_by.level}:${m.removed_by.reason}`], [false, expected], model);
          }
        }

        await gw.flush();
        const logs = (await gw.api('GET', `/api/teams/${team.body.id}/logs?limit=100`)).body.data;
        for (const model of ROUTED) {
          const entry = logs.find((l: any) => l.model === model);
          assert.ok(entry, `${model} is logged`);
          if (row.expect[model] === 'ok') assert.equal(entry.status_code, 200);
          else assert.deepEqual([entry.status_code, entry.error_code, entry.key_id], [403, 'model_not_allowed', key.body.id], model);
        }
      });
    }

    test('a group whose models change under a warm key: the next request sees it, no key edit', async () => {
      await gw.api('PUT', '/api/orgs/current/access', {});
      const g = (await gw.api('POST', '/api/access-groups', { name: 'moving', models: ['gpt-4o-mini'] })).body;
      const team = (await gw.api('POST', '/api/teams', { name: 'warm team' })).body;
      const key = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'warm', access_groups: [g.id] })).body;
      const client = gw.openai(key.key);
      const call = (model: string) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).then(() => 200, (err: any) => err.status);
      assert.equal(await call('gpt-4o-mini'), 200);
      assert.equal(await call('gpt-4o'), 403);
      assert.deepEqual((await client.models.list()).data.map((m) => m.id), ['gpt-4o-mini']);

      assert.equal((await gw.api('PATCH', `/api/access-groups/${g.id}`, { models: ['gpt-4o'] })).status, 200);
      assert.equal(await call('gpt-4o'), 200, 'granted by the group now');
      assert.equal(await call('gpt-4o-mini'), 403, 'no longer in the group');
      assert.deepEqual((await client.models.list()).data.map((m) => m.id), ['gpt-4o']);

      // The team's rule changing under the same warm key: blocked at the team, then unblocked.
      assert.equal((await gw.api('PATCH', `/api/teams/${team.id}`, { blocked_models: ['gpt-4o'] })).status, 200);
      assert.equal(await call('gpt-4o'), 403);
      assert.equal((await gw.api('PATCH', `/api/teams/${team.id}`, { blocked_models: [] })).status, 200);
      assert.equal(await call('gpt-4o'), 200);
      // And the org's.
      assert.equal((await gw.api('PATCH', '/api/orgs/current/access', { blocked_models: ['gpt-4o'] })).status, 200);
      assert.equal(await call('gpt-4o'), 403);
      await gw.api('PUT', '/api/orgs/current/access', {});
      assert.equal(await call('gpt-4o'), 200);
    });

    test('a pattern group grants a model routed later, with no edit of the group or the key', async () => {
      const g = (await gw.api('POST', '/api/access-groups', { name: 'o3 family', models: ['o3*'] })).body;
      const key = (await gw.api('POST', '/api/keys', { name: 'o3 key', access_groups: [g.id] })).body;
      const client = gw.openai(key.key);
      assert.deepEqual((await client.models.list()).data, [], 'nothing routed matches yet');
      const provider = await gw.api('POST', '/api/providers', { name: 'o3 provider', provider: 'openai', base_url: gw.fake.baseUrl + '/v1', api_key: UPSTREAM_KEY, models: ['o3-mini'] });
      assert.equal(provider.status, 201);
      assert.deepEqual((await client.models.list()).data.map((m) => m.id), ['o3-mini']);
      const res = await client.chat.completions.create({ model: 'o3-mini', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(res.object, 'chat.completion');
      await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }), (err: any) => err.status === 403 && err.code === 'model_not_allowed');
      const one = await gw.api('GET', `/api/keys/${key.id}/access?model=o3-pro-2027`);
      assert.deepEqual(one.body.models, [{ id: 'o3-pro-2027', routed: false, allowed: true }], '?model= explains a name that is not routed');
    });

    test('a write that would widen the level above is a 400 naming the field, and changes nothing', async () => {
      await gw.api('PUT', '/api/orgs/current/access', { models: ['gpt-4o*', 'o1*', 'claude-3-haiku'] });
      const team = (await gw.api('POST', '/api/teams', { name: 'narrow team', models: ['gpt-4o-mini', 'o1'] })).body;
      const key = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'narrow key', models: ['o1'] })).body;
      const keysBefore = (await gw.api('GET', `/api/teams/${team.id}/keys`)).body.data.length;
      const cases: Array<[string, string, unknown, string, RegExp]> = [
        ['POST', `/api/teams/${team.id}/keys`, { name: 'wider', models: ['gpt-4o'] }, 'models[0]', /not allowed by the team/],
        ['POST', `/api/teams/${team.id}/keys`, { name: 'wider', models: ['o1', 'gpt-4o-mini*'] }, 'models[1]', /wider than what the team allows/],
        ['POST', `/api/teams/${team.id}/keys`, { name: 'wider', access_groups: [groupIds.cheap] }, 'access_groups[0]', /not visible through the team/],
        ['POST', '/api/keys', { name: 'wider', team_id: team.id, models: ['o1-pro'] }, 'models[0]', /team/],
        ['POST', '/api/keys', { name: 'personal', models: ['text-embedding-3-small'] }, 'models[0]', /not allowed by the org/],
        ['PATCH', `/api/keys/${key.id}`, { models: ['o1', 'claude-3-haiku'] }, 'models[1]', /team/],
        ['PATCH', `/api/teams/${team.id}/keys/${key.id}`, { access_groups: [999999] }, 'access_groups[0]', /does not exist/],
        ['POST', '/api/teams', { name: 'wider team', models: ['gpt-*'] }, 'models[0]', /wider than what the org allows/],
        ['PATCH', `/api/teams/${team.id}`, { access_groups: [groupIds.cheap, groupIds.embeddings] }, 'access_groups[1]', /"embeddings" \(\d+\) is not visible through the org/],
        ['PUT', `/api/teams/${team.id}`, { models: ['o1', 'gemini-pro'] }, 'models[1]', /not allowed by the org/],
        ['PUT', '/api/orgs/current/access', { access_groups: [123456] }, 'access_groups[0]', /does not exist/],
      ];
      for (const [method, path, body, field, why] of cases) {
        const res = await gw.api(method, path, body);
        assert.equal(res.status, 400, `${method} ${path} ${JSON.stringify(body)} → ${res.status} ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.param, field, res.body.error.message);
        assert.match(res.body.error.message, why);
      }
      assert.deepEqual((await gw.api('GET', `/api/keys/${key.id}`)).body.models, ['o1']);
      assert.deepEqual((await gw.api('GET', `/api/teams/${team.id}`)).body.models, ['gpt-4o-mini', 'o1']);
      assert.equal((await gw.api('GET', `/api/teams/${team.id}/keys`)).body.data.length, keysBefore);
      assert.deepEqual((await gw.api('GET', '/api/orgs/current/access')).body.access_groups, null);
      // Narrowing further, and blocking anything, are always accepted.
      assert.equal((await gw.api('PATCH', `/api/keys/${key.id}`, { models: [], blocked_models: ['anything*'] })).status, 200);
      assert.equal((await gw.api('PATCH', `/api/teams/${team.id}`, { blocked_models: ['o1-pro', 'gemini*'] })).status, 200);
      await gw.api('PUT', '/api/orgs/current/access', {});
    });
  });
}
