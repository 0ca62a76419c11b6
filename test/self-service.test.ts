// Seed 002's self-service policy, on both dialects: GET|PUT /api/teams/{id}/self-service (who may
// write it, validation naming the field, the audit event), then each row of the constraint table
// refused through POST /api/me/keys with its own code and param, a member whose owner turned
// self-service off, and max_keys_per_user held under concurrent creations.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, dialectSkip, startGateway, type Gateway } from './support/gateway.ts';
import { signedInUser, type TestSession } from './support/sessions.ts';

const DAY = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();

for (const dialect of DIALECTS) {
  describe(`self-service policy (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let gw: Gateway;
    let n = 0;
    before(async () => {
      gw = await startGateway({ dialect });
    });
    after(() => gw?.close());

    const team = async (): Promise<number> => {
      const res = await gw.api('POST', '/api/teams', { name: `Self-service ${++n}` });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.id;
    };
    const member = (teamId: number, role: 'owner' | 'member' = 'member') => signedInUser(gw, `ss-${dialect}-${++n}`, 'member', { [teamId]: role });
    const setPolicy = async (teamId: number, body: Record<string, unknown>) => {
      const res = await gw.api('PUT', `/api/teams/${teamId}/self-service`, body);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    };
    /** A team with `policy`, and a signed-in member of it. */
    const setup = async (policy: Record<string, unknown>): Promise<{ teamId: number; dev: TestSession }> => {
      const teamId = await team();
      await setPolicy(teamId, policy);
      return { teamId, dev: await member(teamId) };
    };
    const refused = (res: { status: number; body: any }, status: number, code: string, param: string | null) => {
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.equal(res.body.error.code, code, JSON.stringify(res.body));
      assert.equal(res.body.error.param, param, JSON.stringify(res.body));
    };
    const keysOf = async (teamId: number) => (await gw.api('GET', `/api/teams/${teamId}/keys?include_revoked=true`)).body.data as any[];

    test('a team without a policy has self-service off; PUT replaces it, names a bad field, and is audited with before/after', async () => {
      const teamId = await team();
      const fresh = await gw.api('GET', `/api/teams/${teamId}/self-service`);
      assert.equal(fresh.status, 200);
      assert.deepEqual(fresh.body, { team_id: teamId, enabled: false, max_keys_per_user: null, max_budget_usd: null, require_expiry: false, max_expiry_days: null, updated_at: null });

      const set = await setPolicy(teamId, { enabled: true, max_keys_per_user: 3, max_budget_usd: 25.5, require_expiry: true, max_expiry_days: 90 });
      assert.deepEqual({ ...set, updated_at: undefined }, { team_id: teamId, enabled: true, max_keys_per_user: 3, max_budget_usd: 25.5, require_expiry: true, max_expiry_days: 90, updated_at: undefined });
      assert.match(set.updated_at, /^\d{4}-\d\d-\d\dT/);
      assert.deepEqual((await gw.api('GET', `/api/teams/${teamId}/self-service`)).body, set);
      // PUT replaces: what is not sent goes back to its default.
      const replaced = await setPolicy(teamId, { enabled: true });
      assert.equal(replaced.max_keys_per_user, null);
      assert.equal(replaced.require_expiry, false);

      for (const [body, param] of [
        [{ enabled: 'yes' }, 'enabled'],
        [{ max_keys_per_user: 0 }, 'max_keys_per_user'],
        [{ max_keys_per_user: 2.5 }, 'max_keys_per_user'],
        [{ max_budget_usd: -1 }, 'max_budget_usd'],
        [{ max_budget_usd: 0 }, 'max_budget_usd'],
        [{ max_expiry_days: 0 }, 'max_expiry_days'],
        [{ max_expiry_days: 100_000 }, 'max_expiry_days'],
        [{ require_expiry: 1 }, 'require_expiry'],
        [{ max_keys: 3 }, 'max_keys'],
      ] as const) {
        refused(await gw.api('PUT', `/api/teams/${teamId}/self-service`, body), 400, 'invalid_request', param);
      }
      assert.deepEqual((await gw.api('GET', `/api/teams/${teamId}/self-service`)).body, replaced, 'a refused PUT changed nothing');

      const events = await gw.runtime.deps.db.kysely.selectFrom('audit_events').selectAll().where('action', '=', 'team.self_service.set').where('team_id', '=', teamId).orderBy('id').execute();
      assert.equal(events.length, 2);
      assert.equal(JSON.parse(events[0]!.before!).enabled, false);
      assert.equal(JSON.parse(events[0]!.after!).max_budget_usd, 25.5);
      assert.equal(JSON.parse(events[1]!.before!).max_keys_per_user, 3);
      assert.equal(JSON.parse(events[1]!.after!).max_keys_per_user, null);
    });

    test("team owners and admins write the policy; members and viewers read it; another team's owner does neither", async () => {
      const teamId = await team();
      const owner = await member(teamId, 'owner');
      const dev = await member(teamId);
      const viewer = await signedInUser(gw, `ss-viewer-${dialect}`, 'viewer');
      const admin = await signedInUser(gw, `ss-admin-${dialect}`, 'admin');
      const stranger = await member(await team(), 'owner');
      assert.equal((await owner.api('PUT', `/api/teams/${teamId}/self-service`, { enabled: true, max_keys_per_user: 2 })).status, 200);
      assert.equal((await admin.api('PUT', `/api/teams/${teamId}/self-service`, { enabled: true, max_keys_per_user: 5 })).status, 200);
      for (const s of [dev, viewer, stranger]) refused(await s.api('PUT', `/api/teams/${teamId}/self-service`, { enabled: false }), 403, 'forbidden', null);
      for (const s of [owner, dev, viewer, admin]) assert.equal((await s.api('GET', `/api/teams/${teamId}/self-service`)).body.max_keys_per_user, 5);
      assert.equal((await stranger.api('GET', `/api/teams/${teamId}/self-service`)).status, 403);
      assert.equal((await gw.api('GET', '/api/teams/999999/self-service')).status, 404);
    });

    test('row 1: self-service disabled on the team → 403 self_service_disabled (team_id)', async () => {
      const teamId = await team();
      const dev = await member(teamId);
      // No policy at all: off.
      refused(await dev.api('POST', '/api/me/keys', { team_id: teamId, name: 'mine' }), 403, 'self_service_disabled', 'team_id');
      await setPolicy(teamId, { enabled: false, max_keys_per_user: 10 });
      const off = await dev.api('POST', '/api/me/keys', { team_id: teamId, name: 'mine' });
      refused(off, 403, 'self_service_disabled', 'team_id');
      assert.match(off.body.error.message, /disabled on team/);
      await setPolicy(teamId, { enabled: true });
      assert.equal((await dev.api('POST', '/api/me/keys', { team_id: teamId, name: 'mine' })).status, 201);
    });

    test("row 1 for one member: an owner turns off a member's self-service → 403 self_service_disabled saying so; the others keep it", async () => {
      const teamId = await team();
      const owner = await member(teamId, 'owner');
      const dev = await member(teamId);
      const other = await member(teamId);
      await setPolicy(teamId, { enabled: true });
      const off = await owner.api('PUT', `/api/teams/${teamId}/members/${dev.userId}`, { key_create_self: false });
      assert.equal(off.status, 200, JSON.stringify(off.body));
      assert.equal(off.body.key_create_self, false);
      assert.equal(off.body.role, 'member', 'the role is kept');
      const listed = (await owner.api('GET', `/api/teams/${teamId}/members`)).body.data;
      assert.equal(listed.find((m: any) => m.user_id === dev.userId).key_create_self, false);
      assert.equal(listed.find((m: any) => m.user_id === other.userId).key_create_self, true);

      const res = await dev.api('POST', '/api/me/keys', { team_id: teamId, name: 'mine' });
      refused(res, 403, 'self_service_disabled', 'team_id');
      assert.match(res.body.error.message, /owner turned off self-service key creation for you/);
      assert.equal((await other.api('POST', '/api/me/keys', { team_id: teamId, name: 'theirs' })).status, 201);
      // A member cannot turn it back on for themselves.
      assert.equal((await dev.api('PUT', `/api/teams/${teamId}/members/${dev.userId}`, { key_create_self: true })).status, 403);
      assert.equal((await owner.api('PUT', `/api/teams/${teamId}/members/${dev.userId}`, { key_create_self: true })).body.key_create_self, true);
      assert.equal((await dev.api('POST', '/api/me/keys', { team_id: teamId, name: 'mine' })).status, 201);

      const audit = await gw.runtime.deps.db.kysely.selectFrom('audit_events').selectAll().where('action', '=', 'member.set').where('target_id', '=', `member:${teamId}:${dev.userId}`).orderBy('id').execute();
      const changes = audit.map((e) => [e.before ? JSON.parse(e.before).key_create_self : null, JSON.parse(e.after!).key_create_self]);
      assert.deepEqual(changes.slice(-2), [[true, false], [false, true]]);
    });

    test('row 2: max keys per user reached → 403 max_keys_reached (team_id); counted per member; a revoked or expired key frees its place', async () => {
      const { teamId, dev } = await setup({ enabled: true, max_keys_per_user: 2 });
      const other = await member(teamId);
      const a = await dev.api('POST', '/api/me/keys', { team_id: teamId, name: 'a' });
      assert.equal(a.status, 201);
      assert.equal((await dev.api('POST', '/api/me/keys', { team_id: teamId, name: 'b', expires_at: inDays(1) })).status, 201);
      const third = await dev.api('POST', '/api/me/keys', { team_id: teamId, name: 'c' });
      refused(third, 403, 'max_keys_reached', 'team_id');
      assert.equal(third.body.error.max_keys_per_user, 2);
      // Another member's count is their own; a key an admin made for them counts in it.
      assert.equal((await gw.api('POST', `/api/teams/${teamId}/keys`, { name: 'other, by an admin', user_id: other.userId })).status, 201);
      assert.equal((await other.api('POST', '/api/me/keys', { team_id: teamId, name: 'other a' })).status, 201);
      refused(await other.api('POST', '/api/me/keys', { team_id: teamId, name: 'other b' }), 403, 'max_keys_reached', 'team_id');

      assert.equal((await dev.api('DELETE', `/api/me/keys/${a.body.id}`)).status, 200);
      const c = await dev.api('POST', '/api/me/keys', { team_id: teamId, name: 'c' });
      assert.equal(c.status, 201, 'revoking a key gave its place back');
      refused(await dev.api('POST', '/api/me/keys', { team_id: teamId, name: 'd' }), 403, 'max_keys_reached', 'team_id');
      // An owner expires one of them (a past expiry is allowed on PATCH): it no longer holds a place.
      assert.equal((await gw.api('PATCH', `/api/keys/${c.body.id}`, { expires_at: new Date(Date.now() - 1000).toISOString() })).status, 200);
      assert.equal((await dev.api('POST', '/api/me/keys', { team_id: teamId, name: 'd' })).status, 201);
      assert.equal((await keysOf(teamId)).filter((k) => k.user_id === dev.userId).length, 4, 'a refused creation wrote no key');
    });

    test('row 3: a budget above the team ceiling → 400 budget_above_ceiling (max_budget_usd); so is no budget, or a soft one', async () => {
      const { teamId, dev } = await setup({ enabled: true, max_budget_usd: 50 });
      const above = await dev.api('POST', '/api/me/keys', { team_id: teamId, name: 'big', max_budget_usd: 50.01 });
      refused(above, 400, 'budget_above_ceiling', 'max_budget_usd');
      assert.match(above.body.error.message, /\$50\.01 is above this team's ceiling for self-service keys, \$50/);
      const none = await dev.api('POST', '/api/me/keys', { team_id: teamId, name: 'unbounded' });
      refused(none, 400, 'budget_above_ceiling', 'max_budget_usd');
      assert.match(none.body.error.message, /without a budget would be unbounded/);
      refused(await dev.api('POST', '/api/me/keys', { team_id: teamId, name: 'null', max_budget_usd: null }), 400, 'budget_above_ceiling', 'max_budget_usd');
      refused(await dev.api('POST', '/api/me/keys', { team_id: teamId, name: 'soft', max_budget_usd: 10, budget_mode: 'soft' }), 400, 'budget_above_ceiling', 'budget_mode');
      const at = await dev.api('POST', '/api/me/keys', { team_id: teamId, name: 'at the ceiling', max_budget_usd: 50 });
      assert.equal(at.status, 201, JSON.stringify(at.body));
      assert.equal(at.body.limits.max_budget_usd, 50);
      assert.equal(at.body.limits.budget_mode, 'hard');
      assert.equal((await keysOf(teamId)).length, 1);
    });

    test('row 4: no expiry when the team requires one → 400 expiry_required (expires_at)', async () => {
      const { teamId, dev } = await setup({ enabled: true, require_expiry: true });
      const res = await dev.api('POST', '/api/me/keys', { team_id: teamId, name: 'forever' });
      refused(res, 400, 'expiry_required', 'expires_at');
      refused(await dev.api('POST', '/api/me/keys', { team_id: teamId, name: 'forever', expires_at: null }), 400, 'expiry_required', 'expires_at');
      assert.equal((await dev.api('POST', '/api/me/keys', { team_id: teamId, name: 'a year', expires_at: inDays(365) })).status, 201);
      // A maximum lifetime implies an expiry, even without require_expiry.
      await setPolicy(teamId, { enabled: true, max_expiry_days: 30 });
      refused(await dev.api('POST', '/api/me/keys', { team_id: teamId, name: 'forever' }), 400, 'expiry_required', 'expires_at');
    });

    test('row 5: an expiry beyond the team max expiry days → 400 expiry_too_far (expires_at)', async () => {
      const { teamId, dev } = await setup({ enabled: true, max_expiry_days: 30 });
      const res = await dev.api('POST', '/api/me/keys', { team_id: teamId, name: 'long', expires_at: inDays(31) });
      refused(res, 400, 'expiry_too_far', 'expires_at');
      assert.equal(res.body.error.max_expiry_days, 30);
      assert.match(res.body.error.message, /at most 30 days ahead/);
      const ok = await dev.api('POST', '/api/me/keys', { team_id: teamId, name: 'month', expires_at: inDays(29) });
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
    });

    test("row 6: a rate limit above the team's → 400 limit_above_team naming the field; a limit the team lacks, or none, is fine", async () => {
      const { teamId, dev } = await setup({ enabled: true });
      assert.equal((await gw.api('PUT', `/api/teams/${teamId}/limits`, { rpm: 60, rph: 1000, rpd: 5000, tpm: 10_000, tpd: 100_000, max_parallel_requests: 4 })).status, 200);
      for (const [field, value] of [['rpm', 61], ['rph', 1001], ['rpd', 5001], ['tpm', 10_001], ['tpd', 100_001], ['max_parallel_requests', 5]] as const) {
        const res = await dev.api('POST', '/api/me/keys', { team_id: teamId, name: field, [field]: value });
        refused(res, 400, 'limit_above_team', field);
        assert.match(res.body.error.message, new RegExp(`${field}: ${value} is above the team's own limit`));
      }
      const within = await dev.api('POST', '/api/me/keys', { team_id: teamId, name: 'within', rpm: 60, tpm: 5000 });
      assert.equal(within.status, 201, JSON.stringify(within.body));
      assert.equal(within.body.limits.rpm, 60);
      assert.equal((await dev.api('POST', '/api/me/keys', { team_id: teamId, name: 'inherits' })).status, 201, 'no key limit: the team limit applies');
      // A team without a given limit leaves the key free on it.
      assert.equal((await gw.api('PUT', `/api/teams/${teamId}/limits`, { rpm: 60 })).status, 200);
      assert.equal((await dev.api('POST', '/api/me/keys', { team_id: teamId, name: 'many tokens', tpm: 1_000_000 })).status, 201);
      assert.equal((await keysOf(teamId)).length, 3, 'the refused creations wrote no key');
    });

    test('concurrent creations never pass max_keys_per_user (10 at once against a cap of 3)', async () => {
      const { teamId, dev } = await setup({ enabled: true, max_keys_per_user: 3 });
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => dev.api('POST', '/api/me/keys', { team_id: teamId, name: `race ${i}` })));
      const statuses = results.map((r) => r.status).sort();
      assert.deepEqual(statuses, [201, 201, 201, 403, 403, 403, 403, 403, 403, 403], JSON.stringify(results.filter((r) => r.status !== 201 && r.status !== 403).map((r) => r.body)));
      for (const r of results) if (r.status === 403) assert.equal(r.body.error.code, 'max_keys_reached');
      assert.equal((await keysOf(teamId)).length, 3);
    });
  });
}
