// Seed 004's key metadata: name, description, tags, the actual creator, status Active/Disabled
// (disable and re-enable without losing history) and expiry, on both dialects.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, dialectSkip, startGateway, type Gateway } from './support/gateway.ts';

for (const dialect of DIALECTS) {
  describe(`key metadata and status (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway({ dialect });
    });
    after(() => gw?.close());

    test('created_by names who created the key: the master key or the org admin key by id', async () => {
      const team = (await gw.api('POST', '/api/teams', { name: 'Metadata' })).body;
      const byMaster = await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'm', description: 'billing job', tags: ['prod', 'billing'] });
      assert.equal(byMaster.status, 201);
      assert.equal(byMaster.body.created_by, 'admin_key:master');
      assert.equal(byMaster.body.description, 'billing job');
      assert.deepEqual(byMaster.body.tags, ['prod', 'billing']);
      const admin = (await gw.api('POST', `/api/orgs/${gw.runtime.deps.defaultOrgId}/admin-keys`, { name: 'ops' })).body;
      const byAdmin = await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'a' }, admin.key);
      assert.equal(byAdmin.status, 201);
      assert.equal(byAdmin.body.created_by, `admin_key:${admin.id}`);
      assert.equal((await gw.api('GET', `/api/keys/${byAdmin.body.id}`)).body.created_by, `admin_key:${admin.id}`, 'kept in the stored view');
    });

    test('disable and re-enable: refused while disabled, usage and spend history kept', async () => {
      const key = (await gw.api('POST', '/api/keys', { name: 'toggle' })).body;
      const client = gw.openai(key.key);
      const ask = () => client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).then(() => 200, (e: { status: number }) => e.status);
      assert.equal(await ask(), 200);
      assert.equal((await gw.api('PATCH', `/api/keys/${key.id}`, { status: 'disabled' })).body.status, 'disabled');
      assert.equal(await ask(), 403);
      assert.equal((await gw.api('PATCH', `/api/keys/${key.id}`, { status: 'active' })).body.status, 'active');
      assert.equal(await ask(), 200);
      await gw.flush();
      const logs = await gw.runtime.deps.db.kysely.selectFrom('request_logs').select(['status_code', 'error_code']).where('key_id', '=', key.id).orderBy('id').execute();
      assert.deepEqual(logs.map((l) => [l.status_code, l.error_code]), [[200, null], [403, 'key_disabled'], [200, null]], 'one key, one history across the toggle');
      const view = (await gw.api('GET', `/api/keys/${key.id}`)).body;
      assert.equal(view.id, key.id);
      assert.notEqual(view.last_used_at, null);
    });
  });
}
