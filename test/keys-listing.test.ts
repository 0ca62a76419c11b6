// Key listing pages on both dialects: an offset counts only the keys the filters keep (team,
// revoked, keyset cursor), so pages neither repeat nor skip keys.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, dialectSkip, startGateway, type Gateway } from './support/gateway.ts';

for (const dialect of DIALECTS) {
  describe(`key listing (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway({ dialect });
    });
    after(async () => {
      await gw.close();
    });

    test('offset pages follow the team, revoked and after filters', async () => {
      const a = (await gw.api('POST', '/api/teams', { name: 'Listed A' })).body;
      const b = (await gw.api('POST', '/api/teams', { name: 'Listed B' })).body;
      const keys: Record<string, number> = {};
      // the two teams' keys interleave by id
      for (let i = 0; i < 6; i++) {
        keys[`a${i}`] = (await gw.api('POST', `/api/teams/${a.id}/keys`, { name: `a${i}` })).body.id;
        keys[`b${i}`] = (await gw.api('POST', `/api/teams/${b.id}/keys`, { name: `b${i}` })).body.id;
      }
      for (const name of ['a1', 'a3']) assert.equal((await gw.api('DELETE', `/api/teams/${a.id}/keys/${keys[name]}`)).status, 200);
      const names = async (path: string) => {
        const res = await gw.api('GET', path);
        assert.equal(res.status, 200, path);
        return res.body.data.map((k: any) => k.name);
      };

      assert.deepEqual(await names(`/api/teams/${a.id}/keys?limit=2&offset=1`), ['a2', 'a4'], 'revoked keys are not counted by the offset');
      assert.deepEqual(await names(`/api/teams/${a.id}/keys?limit=2&offset=3`), ['a5']);
      assert.deepEqual(await names(`/api/teams/${a.id}/keys?limit=2&offset=3&include_revoked=true`), ['a3', 'a4']);
      assert.deepEqual(await names(`/api/keys?team_id=${a.id}&limit=3&offset=2`), ['a4', 'a5']);
      assert.deepEqual(await names(`/api/teams/${a.id}/keys?limit=2&offset=1&after=${keys.a2}`), ['a5'], 'the offset applies after the cursor');
      assert.deepEqual(await names(`/api/keys?limit=3&offset=2&after=${keys.a2}`), ['a4', 'b4', 'a5'], 'without a team filter both teams interleave');
      assert.deepEqual(await names(`/api/teams/${a.id}/keys?limit=2&offset=10`), [], 'past the end is an empty page');
    });
  });
}
