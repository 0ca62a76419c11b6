// Key expiry and the seed 003 allocation: timestamps are stored in one canonical UTC form, refused
// past a horizon, and compared as instants — a far-future expiry once escaped the allocation check.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, dialectSkip, startGateway, TestClock, type Gateway } from './support/gateway.ts';

for (const dialect of DIALECTS) {
  describe(`key expiry and allocations (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let gw: Gateway;
    const clock = new TestClock();
    before(async () => {
      gw = await startGateway({ dialect, clock });
    });
    after(() => gw?.close());

    /** A team whose one member has a $10 monthly allocation. */
    async function member(name: string): Promise<{ team: number; user: number }> {
      const team = (await gw.api('POST', '/api/teams', { name })).body.id;
      const user = (await gw.api('POST', '/api/users', { external_id: `${name}@expiry.example` })).body.id;
      assert.equal((await gw.api('PUT', `/api/teams/${team}/members/${user}`, { allocation_usd: 10 })).status, 200);
      return { team, user };
    }

    test('the reproduction: a $10 key expiring "9999-12-31T23:59:59-00:01" and another $10 key never commit $20 against a $10 allocation', async () => {
      const m = await member('far-future');
      const far = await gw.api('POST', `/api/teams/${m.team}/keys`, { name: 'forever', user_id: m.user, max_budget_usd: 10, expires_at: '9999-12-31T23:59:59-00:01' });
      const second = await gw.api('POST', `/api/teams/${m.team}/keys`, { name: 'second', user_id: m.user, max_budget_usd: 10 });
      const created = [far, second].filter((r) => r.status === 201).length;
      assert.equal(created, 1, `at most one $10 key fits a $10 allocation: ${far.status} ${JSON.stringify(far.body)} / ${second.status} ${JSON.stringify(second.body)}`);
      assert.equal(far.status, 400);
      assert.equal(far.body.error.code, 'invalid_request');
      assert.equal(far.body.error.param, 'expires_at');
      assert.match(far.body.error.message, /at most 10 years ahead/);
      const members = (await gw.api('GET', `/api/teams/${m.team}/members`)).body.data;
      assert.equal(members[0].committed_usd, 10);
    });

    test('an expiry is stored in canonical UTC whatever offset it was given in', async () => {
      const m = await member('canonical');
      const k = await gw.api('POST', `/api/teams/${m.team}/keys`, { name: 'offset', user_id: m.user, expires_at: '2026-12-31T00:00:00.5+14:00' });
      assert.equal(k.status, 201);
      assert.equal(k.body.expires_at, '2026-12-30T10:00:00.500Z');
      const patched = await gw.api('PATCH', `/api/keys/${k.body.id}`, { expires_at: '2027-01-01T00:00:00-05:30' });
      assert.equal(patched.body.expires_at, '2027-01-01T05:30:00.000Z');
      const stored = await gw.runtime.deps.db.kysely.selectFrom('api_keys').select('expires_at').where('id', '=', k.body.id).executeTakeFirstOrThrow();
      assert.equal(stored.expires_at, '2027-01-01T05:30:00.000Z');
      // Just inside and just past the horizon (ten years from the gateway's clock).
      const inside = new Date(clock.now() + 1000);
      inside.setUTCFullYear(inside.getUTCFullYear() + 10);
      inside.setUTCSeconds(inside.getUTCSeconds() - 2);
      assert.equal((await gw.api('PATCH', `/api/keys/${k.body.id}`, { expires_at: inside.toISOString() })).status, 200);
      inside.setUTCSeconds(inside.getUTCSeconds() + 4);
      const past = await gw.api('PATCH', `/api/keys/${k.body.id}`, { expires_at: inside.toISOString() });
      assert.equal(past.status, 400);
      assert.equal(past.body.error.param, 'expires_at');
      for (const bad of ['2026-02-30T00:00:00Z', '2026-12-31T00:00:00', '+010000-01-01T00:00:00Z', '2026-12-31T24:00:00Z']) {
        const r = await gw.api('PATCH', `/api/keys/${k.body.id}`, { expires_at: bad });
        assert.equal(r.status, 400, bad);
        assert.equal(r.body.error.param, 'expires_at', bad);
      }
    });

    test('a row stored before timestamps were canonical (+010000-…) still counts as a live key against the allocation', async () => {
      const m = await member('legacy');
      const k = await gw.api('POST', `/api/teams/${m.team}/keys`, { name: 'legacy', user_id: m.user, max_budget_usd: 10 });
      assert.equal(k.status, 201);
      await gw.runtime.deps.db.kysely.updateTable('api_keys').set({ expires_at: '+010000-01-01T00:00:59.000Z' }).where('id', '=', k.body.id).execute();
      const second = await gw.api('POST', `/api/teams/${m.team}/keys`, { name: 'second', user_id: m.user, max_budget_usd: 10 });
      assert.equal(second.status, 403);
      assert.equal(second.body.error.code, 'allocation_exceeded');
    });

    test('moving an expired key\'s expiry forward cannot bring its cap back over the allocation', async () => {
      const m = await member('revival');
      const expiresAt = new Date(clock.now() + 60_000).toISOString();
      const old = await gw.api('POST', `/api/teams/${m.team}/keys`, { name: 'short-lived', user_id: m.user, max_budget_usd: 10, expires_at: expiresAt });
      assert.equal(old.status, 201);
      clock.advance(120_000);
      const fresh = await gw.api('POST', `/api/teams/${m.team}/keys`, { name: 'successor', user_id: m.user, max_budget_usd: 10 });
      assert.equal(fresh.status, 201, 'an expired key gives its cap back');
      for (const expires_at of [new Date(clock.now() + 86_400_000).toISOString(), null]) {
        const revive = await gw.api('PATCH', `/api/keys/${old.body.id}`, { expires_at });
        assert.equal(revive.status, 403, JSON.stringify(revive.body));
        assert.equal(revive.body.error.code, 'allocation_exceeded');
      }
      const stored = (await gw.api('GET', `/api/keys/${old.body.id}`)).body;
      assert.equal(stored.expires_at, expiresAt, 'the refused change was not half-written');
    });
  });
}
