// Admin API behaviour on both dialects: validation names the field, unknown ids are 404,
// pagination, revocation at once (warm cache), team deletion, rotation, audit trail.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, dialectSkip, startGateway, type Gateway } from './support/gateway.ts';

for (const dialect of DIALECTS) {
  describe(`admin API (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway({ dialect });
    });
    after(() => gw?.close());

    test('bad input gets a 400 naming the field; nothing is written', async () => {
      const cases: Array<[string, string, unknown, string]> = [
        ['POST', '/api/teams', {}, 'name'],
        ['POST', '/api/teams', { name: '' }, 'name'],
        ['POST', '/api/teams', { name: 42 }, 'name'],
        ['POST', '/api/teams', { name: 'x', slug: 'Not A Slug' }, 'slug'],
        ['POST', '/api/teams', { name: 'x', colour: 'red' }, 'colour'],
        ['POST', '/api/keys', { name: 'k', user_id: 'one' }, 'user_id'],
        ['POST', '/api/keys', { name: 'k', user_id: 999 }, 'user_id'],
        ['POST', '/api/keys', { name: 'k', expires_at: 'tomorrow' }, 'expires_at'],
        ['POST', '/api/keys', { name: 'k', expires_at: '2001-01-01T00:00:00Z' }, 'expires_at'],
        ['POST', '/api/users', { external_id: 'a@b.c', email: 'not-an-email' }, 'email'],
        ['POST', '/api/users', { external_id: 'a@b.c', team_id: 424242 }, 'team_id'],
        ['POST', '/api/providers', { name: 'p', provider: 'openai', base_url: 'ftp://x', api_key: 'k' }, 'base_url'],
        ['GET', '/api/teams?limit=0', undefined, 'query.limit'],
        ['GET', '/api/teams?limit=abc', undefined, 'query.limit'],
      ];
      const before = await gw.runtime.deps.db.kysely.selectFrom('audit_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      for (const [method, path, body, field] of cases) {
        const res = await gw.api(method, path, body);
        assert.equal(res.status, 400, `${method} ${path} ${JSON.stringify(body)} → ${res.status}`);
        assert.equal(res.body.error.param, field, `${method} ${path} ${JSON.stringify(body)}: ${res.body.error.message}`);
        assert.ok(res.body.error.message.startsWith(field), res.body.error.message);
      }
      const after = await gw.runtime.deps.db.kysely.selectFrom('audit_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(after.n), Number(before.n), 'no audit event, so no change, for a rejected request');
      const bad = await fetch(gw.url + '/api/teams', { method: 'POST', headers: { 'x-admin-key': 'test-master-admin-key-0123456789', 'content-type': 'application/json' }, body: '{"name":' });
      assert.equal(bad.status, 400);
    });

    test('unknown ids are 404 in the error shape', async () => {
      for (const path of ['/api/teams/999999', '/api/teams/abc', '/api/teams/999999/keys', '/api/teams/999999/spend', '/api/teams/999999/logs', '/api/keys/999999', '/api/users/999999']) {
        const res = await gw.api('GET', path);
        assert.equal(res.status, 404, path);
        assert.equal(res.body.error.code, 'not_found');
      }
      const team = (await gw.api('POST', '/api/teams', { name: 'Lonely' })).body;
      assert.equal((await gw.api('DELETE', `/api/teams/${team.id}/keys/999999`)).status, 404);
      assert.equal((await gw.api('POST', `/api/teams/${team.id}/keys/999999/rotate`)).status, 404);
      assert.equal((await gw.api('GET', '/api/nope')).status, 404);
    });

    test('slugs are unique per organization; a deleted team frees its slug', async () => {
      const a = await gw.api('POST', '/api/teams', { name: 'Platform Team' });
      assert.equal(a.body.slug, 'platform-team');
      const dup = await gw.api('POST', '/api/teams', { name: 'platform team' });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.error.param, 'slug');
      assert.equal((await gw.api('DELETE', `/api/teams/${a.body.id}`)).status, 200);
      assert.equal((await gw.api('POST', '/api/teams', { name: 'Platform Team' })).status, 201);
    });

    test('update team with PUT; audit records before and after', async () => {
      const t = (await gw.api('POST', '/api/teams', { name: 'Old name' })).body;
      const res = await gw.api('PUT', `/api/teams/${t.id}`, { name: 'New name', description: 'desc' });
      assert.equal(res.status, 200);
      assert.equal(res.body.name, 'New name');
      assert.equal(res.body.slug, 'old-name', 'slug only changes when asked');
      const ev = await gw.runtime.deps.db.kysely.selectFrom('audit_events').selectAll().where('action', '=', 'team.update').where('target_id', '=', String(t.id)).executeTakeFirstOrThrow();
      assert.equal(JSON.parse(ev.before!).name, 'Old name');
      assert.equal(JSON.parse(ev.after!).name, 'New name');
      assert.equal(ev.actor_id, 'master');
      assert.equal(ev.source_ip, '127.0.0.1');
    });

    test('keys and logs paginate with limit and offset', async () => {
      const t = (await gw.api('POST', '/api/teams', { name: 'Pager' })).body;
      const made = [];
      for (let i = 0; i < 7; i++) made.push((await gw.api('POST', `/api/teams/${t.id}/keys`, { name: `k${i}` })).body);
      const page1 = (await gw.api('GET', `/api/teams/${t.id}/keys?limit=3`)).body.data;
      const page3 = (await gw.api('GET', `/api/teams/${t.id}/keys?limit=3&offset=6`)).body.data;
      assert.deepEqual(page1.map((k: any) => k.name), ['k0', 'k1', 'k2']);
      assert.deepEqual(page3.map((k: any) => k.name), ['k6']);
      const first = (await gw.api('GET', `/api/teams/${t.id}/keys?limit=3`)).body;
      const next = (await gw.api('GET', `/api/teams/${t.id}/keys?limit=3&after=${first.next_after}`)).body;
      assert.deepEqual(next.data.map((k: any) => k.name), ['k3', 'k4', 'k5'], 'keyset pagination continues after the cursor');
      const c = gw.openai(made[0].key);
      for (let i = 0; i < 5; i++) await c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `msg ${i}` }] });
      const logs1 = (await gw.api('GET', `/api/teams/${t.id}/logs?limit=2`)).body.data;
      const logs2 = (await gw.api('GET', `/api/teams/${t.id}/logs?limit=2&offset=2`)).body.data;
      const all = (await gw.api('GET', `/api/teams/${t.id}/logs`)).body.data;
      assert.equal(all.length, 5);
      assert.deepEqual([...logs1, ...logs2].map((l: any) => l.id), all.slice(0, 4).map((l: any) => l.id));
      assert.ok(all[0].id > all[4].id, 'newest first');
    });

    test('revocation takes effect immediately even for a warm (cached) key', async () => {
      const t = (await gw.api('POST', '/api/teams', { name: 'Revokers' })).body;
      const k = (await gw.api('POST', `/api/teams/${t.id}/keys`, { name: 'hot' })).body;
      const c = gw.openai(k.key);
      await c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'warm' }] });
      assert.ok(gw.runtime.deps.keyCache.size > 0);
      const del = await gw.api('DELETE', `/api/teams/${t.id}/keys/${k.id}`);
      assert.equal(del.status, 200);
      assert.equal(del.body.status, 'revoked');
      await assert.rejects(c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }), (e: any) => e.status === 403 && e.error.code === 'key_revoked');
      const listed = (await gw.api('GET', `/api/teams/${t.id}/keys`)).body.data;
      assert.equal(listed.length, 0, 'revoked keys are hidden from the default listing');
      const withRevoked = (await gw.api('GET', `/api/teams/${t.id}/keys?include_revoked=true`)).body.data;
      assert.equal(withRevoked[0].status, 'revoked');
      assert.equal((await gw.api('POST', `/api/teams/${t.id}/keys/${k.id}/rotate`)).status, 409, 'a revoked key cannot be rotated');
    });

    test('team deletion revokes every key of the team, and keeps its spend history', async () => {
      const t = (await gw.api('POST', '/api/teams', { name: 'Doomed' })).body;
      const keys = [];
      for (let i = 0; i < 3; i++) keys.push((await gw.api('POST', `/api/teams/${t.id}/keys`, { name: `d${i}` })).body);
      await gw.openai(keys[0].key).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'spend' }] });
      const del = await gw.api('DELETE', `/api/teams/${t.id}`);
      assert.deepEqual(del.body, { id: t.id, deleted: true, revoked_keys: 3 });
      await gw.flush();
      for (const k of keys) {
        await assert.rejects(gw.openai(k.key).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }), (e: any) => e.status === 403);
      }
      const rollup = await gw.runtime.deps.db.kysely.selectFrom('spend_rollups').selectAll().where('team_id', '=', t.id).execute();
      assert.equal(rollup.length, 1);
      assert.equal((await gw.api('GET', '/api/teams')).body.data.some((x: any) => x.id === t.id), false);
    });

    test('rotation keeps the key (id, owner, team and settings) and replaces its secret', async () => {
      const t = (await gw.api('POST', '/api/teams', { name: 'Rotators' })).body;
      const u = (await gw.api('POST', '/api/users', { external_id: 'rota@example.com', team_id: t.id })).body;
      const k = (await gw.api('POST', `/api/teams/${t.id}/keys`, { name: 'ci', user_id: u.id, tags: ['env:prod'], description: 'CI key' })).body;
      const r = (await gw.api('POST', `/api/teams/${t.id}/keys/${k.id}/rotate`)).body;
      assert.equal(r.id, k.id);
      assert.equal(r.user_id, u.id);
      assert.equal(r.team_id, t.id);
      assert.deepEqual(r.tags, ['env:prod']);
      assert.equal(r.description, 'CI key');
      assert.notEqual(r.key_prefix, k.key_prefix);
      assert.equal(r.previous_secret.key_prefix, k.key_prefix);
      const now = (await gw.api('GET', `/api/keys/${k.id}`)).body;
      assert.equal(now.status, 'active');
      assert.equal(now.key_prefix, r.key_prefix);
    });
  });
}
