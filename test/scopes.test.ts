// Endpoint scopes on the running server, both dialects: each /v1 endpoint needs its scope (chat,
// completions, embeddings, models; "*" for all), a key without it gets 403 scope_not_allowed before
// anything reaches the upstream, the refusal is logged, a change applies to a warm key at once,
// and an unknown scope name is refused on write (400 naming scopes or scopes[i]).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, dialectSkip, startGateway, type Gateway } from './support/gateway.ts';

type Endpoint = 'chat' | 'completions' | 'embeddings' | 'models';
const ENDPOINTS: Endpoint[] = ['chat', 'completions', 'embeddings', 'models'];

for (const dialect of DIALECTS) {
  describe(`key scopes (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let gw: Gateway;
    let teamId: number;
    before(async () => {
      gw = await startGateway({ dialect });
      teamId = (await gw.api('POST', '/api/teams', { name: 'Scoped' })).body.id;
    });
    after(() => gw?.close());

    /** Calls one endpoint with the official SDK: the HTTP status, and the error's code on a failure. */
    async function call(secret: string, endpoint: Endpoint): Promise<[number, string | undefined]> {
      const client = gw.openai(secret);
      const calls: Record<Endpoint, () => Promise<unknown>> = {
        chat: () => client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
        completions: () => client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'hi', max_tokens: 5 }),
        embeddings: () => client.embeddings.create({ model: 'text-embedding-3-small', input: 'hi' }),
        models: () => client.models.list(),
      };
      try {
        await calls[endpoint]();
        return [200, undefined];
      } catch (err: any) {
        return [err.status, err.code];
      }
    }

    const cases: Array<[scopes: string | string[] | undefined, stored: string, allowed: Endpoint[]]> = [
      [undefined, '*', ENDPOINTS],
      ['*', '*', ENDPOINTS],
      ['chat', 'chat', ['chat']],
      ['completions', 'completions', ['completions']],
      ['embeddings', 'embeddings', ['embeddings']],
      ['models', 'models', ['models']],
      [['models', 'chat'], 'chat models', ['chat', 'models']],
      ['embeddings completions', 'completions embeddings', ['completions', 'embeddings']],
      [['responses', 'messages'], 'responses messages', []],
    ];

    for (const [scopes, stored, allowed] of cases) {
      test(`scopes ${JSON.stringify(scopes ?? '(default)')}: ${allowed.join(', ') || 'no endpoint served here'}`, async () => {
        const created = await gw.api('POST', `/api/teams/${teamId}/keys`, { name: `scoped ${stored}`, ...(scopes !== undefined ? { scopes } : {}) });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        assert.equal(created.body.scopes, stored, 'stored and shown in the canonical form');
        const upstreamBefore = gw.fake.requests.filter((r) => r.method === 'POST').length;
        let served = 0;
        for (const endpoint of ENDPOINTS) {
          const [status, code] = await call(created.body.key, endpoint);
          if (allowed.includes(endpoint)) {
            assert.equal(status, 200, `${endpoint}: ${code}`);
            if (endpoint !== 'models') served++;
          } else assert.deepEqual([status, code], [403, 'scope_not_allowed'], endpoint);
        }
        assert.equal(gw.fake.requests.filter((r) => r.method === 'POST').length, upstreamBefore + served, 'a refused scope reaches no upstream');
        // GET /v1/key describes the key to its holder whatever its scopes.
        const self = await fetch(`${gw.url}/v1/key`, { headers: { authorization: `Bearer ${created.body.key}` } });
        assert.equal(self.status, 200);
        assert.equal(((await self.json()) as any).data.access.scopes, stored);
      });
    }

    test('a key created with scopes "embeddings" cannot call chat; the refusal is logged; widening its scopes applies at once', async () => {
      const key = (await gw.api('POST', `/api/teams/${teamId}/keys`, { name: 'embedder', scopes: 'embeddings' })).body;
      const client = gw.openai(key.key);
      await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }), (err: any) => {
        assert.equal(err.status, 403);
        assert.equal(err.code, 'scope_not_allowed');
        assert.equal(err.type, 'permission_error');
        assert.match(err.message, /"chat"/);
        return true;
      });
      assert.equal((await client.embeddings.create({ model: 'text-embedding-3-small', input: 'warm' })).object, 'list');
      await gw.flush();
      const logs = (await gw.api('GET', `/api/teams/${teamId}/logs?limit=100`)).body.data.filter((l: any) => l.key_id === key.id);
      assert.ok(logs.some((l: any) => l.status_code === 403 && l.error_code === 'scope_not_allowed' && l.endpoint === 'chat/completions'), JSON.stringify(logs));

      const patched = await gw.api('PATCH', `/api/keys/${key.id}`, { scopes: ['embeddings', 'chat'] });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.scopes, 'chat embeddings');
      assert.equal((await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })).object, 'chat.completion', 'the warm key sees its new scopes');
      assert.equal((await gw.api('PATCH', `/api/teams/${teamId}/keys/${key.id}`, { scopes: 'embeddings' })).status, 200);
      assert.deepEqual(await call(key.key, 'chat'), [403, 'scope_not_allowed'], 'and narrowing applies at once too');
    });

    test('an unknown scope name is refused on write: 400 naming scopes or scopes[i], nothing written', async () => {
      const key = (await gw.api('POST', '/api/keys', { name: 'target', scopes: 'chat' })).body;
      const count = async () => (await gw.runtime.deps.db.kysely.selectFrom('api_keys').select('id').execute()).length;
      const before = await count();
      const bad: Array<[string, string, unknown, string]> = [
        ['POST', `/api/teams/${teamId}/keys`, { name: 'x', scopes: 'embeddings:read' }, 'scopes'],
        ['POST', `/api/teams/${teamId}/keys`, { name: 'x', scopes: 'chat admin' }, 'scopes'],
        ['POST', '/api/keys', { name: 'x', scopes: ['chat', 'admin'] }, 'scopes[1]'],
        ['POST', '/api/keys', { name: 'x', scopes: ['chat', 3] }, 'scopes[1]'],
        ['POST', '/api/keys', { name: 'x', scopes: '' }, 'scopes'],
        ['POST', '/api/keys', { name: 'x', scopes: [] }, 'scopes'],
        ['POST', '/api/keys', { name: 'x', scopes: { chat: true } }, 'scopes'],
        ['PATCH', `/api/keys/${key.id}`, { scopes: 'write' }, 'scopes'],
        ['PATCH', `/api/keys/${key.id}`, { scopes: ['models', 'Chat'] }, 'scopes[1]'],
      ];
      for (const [method, path, body, field] of bad) {
        const res = await gw.api(method, path, body);
        assert.equal(res.status, 400, `${method} ${path} ${JSON.stringify(body)} → ${res.status}`);
        assert.equal(res.body.error.param, field, res.body.error.message);
        assert.match(res.body.error.message, /scope/);
      }
      assert.equal(await count(), before);
      assert.equal((await gw.api('GET', `/api/keys/${key.id}`)).body.scopes, 'chat');
    });
  });
}
