// "My Keys" on both dialects: a member creates a key through /api/me/keys within the team's
// self-service policy and calls /v1 with it through the official openai SDK; the owner is always
// the session user; a member cannot see, rotate or revoke another member's key (through /api/me
// nor /api/keys); seed 003's sub-keys carved out of an allocation; and the rule that a team key's
// owner belongs to the team, for every way of creating keys.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, dialectSkip, startGateway, type Gateway } from './support/gateway.ts';
import { signedInUser, type TestSession } from './support/sessions.ts';

const DAY = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();
const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hello' }], max_tokens: 16 };

for (const dialect of DIALECTS) {
  describe(`my keys (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let gw: Gateway;
    let n = 0;
    before(async () => {
      gw = await startGateway({ dialect });
    });
    after(() => gw?.close());

    /** A team with self-service on (and `policy`), its owner and two members, signed in. */
    const world = async (policy: Record<string, unknown> = {}) => {
      const teamId = (await gw.api('POST', '/api/teams', { name: `My keys ${++n}` })).body.id as number;
      assert.equal((await gw.api('PUT', `/api/teams/${teamId}/self-service`, { enabled: true, ...policy })).status, 200);
      const user = (role: 'owner' | 'member') => signedInUser(gw, `mk-${dialect}-${++n}`, 'member', { [teamId]: role });
      return { teamId, owner: await user('owner'), alice: await user('member'), bob: await user('member') };
    };
    const create = async (s: TestSession, body: Record<string, unknown>) => {
      const res = await s.api('POST', '/api/me/keys', body);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body;
    };

    test('a member creates a key within the policy, uses it with the openai SDK, and finds it under My Keys', async () => {
      const { teamId, alice, bob } = await world({ max_keys_per_user: 3, max_budget_usd: 20, require_expiry: true, max_expiry_days: 30 });
      const key = await create(alice, { team_id: teamId, name: 'notebook', description: 'experiments', tags: ['dev'], max_budget_usd: 5, expires_at: inDays(7), rpm: 30 });
      assert.equal(key.user_id, alice.userId, 'owned by the signed-in user');
      assert.equal(key.team_id, teamId);
      assert.equal(key.created_by, `user:${alice.userId}`);
      assert.equal(key.limits.max_budget_usd, 5);
      assert.equal(key.limits.rpm, 30);
      assert.match(key.key, /^sk-tg-/);

      const reply = await gw.openai(key.key).chat.completions.create(chat);
      assert.equal(reply.object, 'chat.completion');
      assert.ok(reply.choices[0]?.message.content);

      const mine = await alice.api('GET', '/api/me/keys');
      assert.equal(mine.status, 200);
      assert.deepEqual(mine.body.data.map((k: any) => k.id), [key.id]);
      assert.equal(mine.body.data[0].key, undefined, 'the secret is never shown again');
      assert.deepEqual((await bob.api('GET', '/api/me/keys')).body.data, []);
      // The listing's filters and paging apply, inside the caller's own keys.
      await create(alice, { team_id: teamId, name: 'second', max_budget_usd: 1, expires_at: inDays(1), tags: ['ci'] });
      assert.deepEqual((await alice.api('GET', '/api/me/keys?tag=ci')).body.data.map((k: any) => k.name), ['second']);
      assert.deepEqual((await alice.api('GET', '/api/me/keys?limit=1&sort=-created_at')).body.data.map((k: any) => k.name), ['second']);
      assert.deepEqual((await alice.api('GET', `/api/me/keys?user_id=${bob.userId}`)).body.data.map((k: any) => k.name).sort(), ['notebook', 'second'], 'user_id cannot widen My Keys');
      assert.equal((await alice.api('GET', '/api/me/keys?sort=name')).body.error.param, 'query.sort');

      const [event] = await gw.runtime.deps.db.kysely.selectFrom('audit_events').selectAll().where('action', '=', 'key.create').where('target_id', '=', String(key.id)).execute();
      assert.equal(event!.actor_type, 'user');
      assert.equal(event!.actor_id, String(alice.userId));
      assert.equal(JSON.parse(event!.after!).self_service, true);
      assert.ok(!JSON.stringify(event).includes(key.key), 'no secret in the audit trail');
    });

    test('the owner is always the session user: a body user_id or service_account_id is a 400 naming it', async () => {
      const { teamId, alice, bob } = await world();
      const sa = (await gw.api('POST', `/api/teams/${teamId}/service-accounts`, { name: 'robot' })).body;
      for (const [field, value] of [['user_id', bob.userId], ['user_id', alice.userId], ['service_account_id', sa.id]] as const) {
        const res = await alice.api('POST', '/api/me/keys', { team_id: teamId, name: 'sneaky', [field]: value });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.error.code, 'invalid_request');
        assert.equal(res.body.error.param, field);
        assert.match(res.body.error.message, /always owned by the signed-in user/);
      }
      assert.deepEqual((await gw.api('GET', `/api/teams/${teamId}/keys`)).body.data, [], 'nothing was created');
      const missing = await alice.api('POST', '/api/me/keys', { name: 'no team' });
      assert.equal(missing.body.error.param, 'team_id');
    });

    test("a member creates keys only in their own teams; the master key and management keys have no keys of their own", async () => {
      const { teamId, alice } = await world();
      const other = await world();
      const res = await alice.api('POST', '/api/me/keys', { team_id: other.teamId, name: 'elsewhere' });
      assert.equal(res.status, 403);
      assert.equal(res.body.error.code, 'forbidden');
      assert.equal((await alice.api('POST', '/api/me/keys', { team_id: 999999, name: 'nowhere' })).status, 404);
      const outsider = await signedInUser(gw, `mk-outsider-${dialect}`, 'member');
      assert.equal((await outsider.api('POST', '/api/me/keys', { team_id: teamId, name: 'x' })).status, 403, 'a user in no team may not create their own keys');

      const mgmt = (await gw.api('POST', `/api/orgs/${gw.runtime.deps.defaultOrgId}/admin-keys`, { name: 'automation' })).body.key as string;
      for (const cred of [undefined, mgmt]) {
        for (const [method, path, body] of [['POST', '/api/me/keys', { team_id: teamId, name: 'x' }], ['GET', '/api/me/keys', undefined]] as const) {
          const r = await gw.api(method, path, body, cred);
          assert.equal(r.status, 400, `${method} ${path}: ${JSON.stringify(r.body)}`);
          assert.match(r.body.error.message, /Only a signed-in person has keys of their own/);
        }
      }
    });

    test("a member cannot see, rotate or revoke another member's key, through /api/me/keys nor /api/keys", async () => {
      const { teamId, owner, alice, bob } = await world();
      const bobs = await create(bob, { team_id: teamId, name: "bob's" });
      const alices = await create(alice, { team_id: teamId, name: "alice's" });
      for (const [method, path] of [
        ['GET', `/api/keys/${bobs.id}`],
        ['GET', `/api/teams/${teamId}/keys/${bobs.id}`],
        ['GET', `/api/keys/${bobs.id}/secrets`],
        ['PATCH', `/api/keys/${bobs.id}`],
        ['POST', `/api/keys/${bobs.id}/rotate`],
        ['POST', `/api/teams/${teamId}/keys/${bobs.id}/rotate`],
        ['DELETE', `/api/keys/${bobs.id}`],
        ['DELETE', `/api/teams/${teamId}/keys/${bobs.id}`],
        ['POST', `/api/me/keys/${bobs.id}/rotate`],
        ['DELETE', `/api/me/keys/${bobs.id}`],
      ] as const) {
        const res = await alice.api(method, path, method === 'GET' || method === 'DELETE' ? undefined : {});
        assert.equal(res.status, 403, `${method} ${path}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'forbidden');
        assert.ok(!JSON.stringify(res.body).includes(bobs.key_prefix), 'nothing of the key is shown');
      }
      const listed = (await alice.api('GET', '/api/keys?include_revoked=true')).body.data.map((k: any) => k.id);
      assert.deepEqual(listed, [alices.id], 'GET /api/keys shows a member their own keys only');
      assert.deepEqual((await alice.api('GET', `/api/keys?user_id=${bob.userId}`)).body.data, []);
      const still = (await gw.api('GET', `/api/keys/${bobs.id}`)).body;
      assert.equal(still.status, 'active');
      assert.equal(still.key_prefix, bobs.key_prefix, 'not rotated');
      const used = await gw.openai(bobs.key).chat.completions.create(chat);
      assert.equal(used.object, 'chat.completion');

      // The team owner manages the member's key through /api/keys (All Keys), not as "my key".
      assert.equal((await owner.api('DELETE', `/api/me/keys/${bobs.id}`)).status, 404);
      assert.deepEqual((await owner.api('GET', `/api/keys?team_id=${teamId}`)).body.data.map((k: any) => k.id).sort(), [bobs.id, alices.id].sort());
      assert.equal((await owner.api('DELETE', `/api/keys/${bobs.id}`)).body.status, 'revoked');
      // An admin sees every key of the organization.
      const admin = await signedInUser(gw, `mk-admin-${dialect}-${++n}`, 'admin');
      const all = (await admin.api('GET', `/api/keys?team_id=${teamId}&include_revoked=true`)).body.data.map((k: any) => k.id);
      assert.deepEqual(all.sort(), [bobs.id, alices.id].sort());
      assert.equal((await alice.api('DELETE', '/api/me/keys/999999')).status, 404);
    });

    test('a member rotates their key with a grace period and revokes it, through /api/me/keys', async () => {
      const { teamId, alice } = await world();
      const key = await create(alice, { team_id: teamId, name: 'rotating' });
      const rotated = await alice.api('POST', `/api/me/keys/${key.id}/rotate`, { grace_period_seconds: 3600 });
      assert.equal(rotated.status, 201, JSON.stringify(rotated.body));
      assert.equal(rotated.body.id, key.id);
      assert.notEqual(rotated.body.key, key.key);
      assert.equal(rotated.body.previous_secret.key_prefix, key.key_prefix);
      for (const secret of [key.key, rotated.body.key]) assert.equal((await gw.openai(secret).chat.completions.create(chat)).object, 'chat.completion', 'both secrets work during the grace period');
      const bad = await alice.api('POST', `/api/me/keys/${key.id}/rotate`, { grace_period_seconds: -1 });
      assert.equal(bad.body.error.param, 'grace_period_seconds');

      const revoked = await alice.api('DELETE', `/api/me/keys/${key.id}`);
      assert.equal(revoked.status, 200);
      assert.equal(revoked.body.status, 'revoked');
      await assert.rejects(gw.openai(rotated.body.key).chat.completions.create(chat), (e: any) => e.status === 403 || e.status === 401);
      assert.deepEqual((await alice.api('GET', '/api/me/keys')).body.data, []);
      assert.equal((await alice.api('GET', '/api/me/keys?include_revoked=true')).body.data[0].status, 'revoked');
      const actions = (await gw.runtime.deps.db.kysely.selectFrom('audit_events').select('action').where('target_type', '=', 'key').where('target_id', '=', String(key.id)).orderBy('id').execute()).map((e) => e.action);
      assert.deepEqual(actions, ['key.create', 'key.rotate', 'key.revoke']);
    });

    test("seed 003: a member carves two capped, expiring sub-keys out of a $10 allocation; a third beyond it is refused with the numbers", async () => {
      const { teamId, owner, alice } = await world({ max_budget_usd: 10 });
      // The owner allocates the member's monthly budget (a signed-in owner, no admin involved).
      const allocated = await owner.api('PUT', `/api/teams/${teamId}/members/${alice.userId}`, { allocation_usd: 10 });
      assert.equal(allocated.status, 200, JSON.stringify(allocated.body));
      const openrouter = await create(alice, { team_id: teamId, name: 'openrouter', max_budget_usd: 4, expires_at: inDays(30) });
      const storage = await create(alice, { team_id: teamId, name: 'storage', max_budget_usd: 5, expires_at: inDays(30) });
      const third = await alice.api('POST', '/api/me/keys', { team_id: teamId, name: 'too much', max_budget_usd: 2, expires_at: inDays(30) });
      assert.equal(third.status, 403, JSON.stringify(third.body));
      assert.equal(third.body.error.code, 'allocation_exceeded');
      assert.equal(third.body.error.param, 'max_budget_usd');
      assert.equal(third.body.error.remaining_usd, 1);
      assert.equal(third.body.error.allocation_usd, 10);
      assert.match(third.body.error.message, /\$1 remaining of \$10/);
      assert.equal((await create(alice, { team_id: teamId, name: 'the rest', max_budget_usd: 1, expires_at: inDays(30) })).limits.max_budget_usd, 1);

      const members = (await owner.api('GET', `/api/teams/${teamId}/members`)).body.data;
      const m = members.find((x: any) => x.user_id === alice.userId);
      assert.equal(m.committed_usd, 10);
      assert.equal(m.unallocated_usd, 0);
      const provisioned = (await owner.api('GET', `/api/teams/${teamId}/transactions`)).body.data.filter((t: any) => t.action === 'key.create');
      assert.deepEqual(provisioned.map((t: any) => t.amount_usd).sort(), [1, 4, 5], "the owner's trail shows each provisioning with its amount");
      assert.equal((await gw.openai(openrouter.key).chat.completions.create(chat)).object, 'chat.completion');
      // Revoking a sub-key gives its cap back to the member.
      assert.equal((await alice.api('DELETE', `/api/me/keys/${storage.id}`)).status, 200);
      assert.equal((await alice.api('POST', '/api/me/keys', { team_id: teamId, name: 'again', max_budget_usd: 5, expires_at: inDays(30) })).status, 201);
    });

    test("a team key's owner is a member of the team, an org admin, or one of its service accounts — whoever creates it", async () => {
      const { teamId, owner, alice } = await world();
      const other = await world();
      const outsider = (await gw.api('POST', '/api/users', { external_id: `mk-out-${dialect}-${++n}`, role: 'member' })).body.id;
      // Seed 000's default: without user_id, the master key's team key is owned by the first admin.
      const byDefault = await gw.api('POST', `/api/teams/${teamId}/keys`, { name: 'default owner' });
      assert.equal(byDefault.status, 201);
      assert.equal(byDefault.body.user_id, 1);
      for (const [who, call] of [
        ['master key', (body: unknown) => gw.api('POST', `/api/teams/${teamId}/keys`, body)],
        ['master key, /api/keys', (body: unknown) => gw.api('POST', '/api/keys', { team_id: teamId, ...(body as object) })],
        ['team owner', (body: unknown) => owner.api('POST', `/api/teams/${teamId}/keys`, body)],
      ] as const) {
        for (const userId of [outsider, other.alice.userId]) {
          const res = await call({ name: 'x', user_id: userId });
          assert.equal(res.status, 400, `${who}: ${JSON.stringify(res.body)}`);
          assert.equal(res.body.error.param, 'user_id');
          assert.match(res.body.error.message, /is not a member of team/);
        }
        assert.equal((await call({ name: 'member-owned', user_id: alice.userId })).status, 201, who);
      }
      // A team owner's key without user_id is their own; a service account of the team may own one.
      const own = await owner.api('POST', `/api/teams/${teamId}/keys`, { name: 'mine' });
      assert.equal(own.body.user_id, owner.userId);
      const sa = (await gw.api('POST', `/api/teams/${teamId}/service-accounts`, { name: 'robot' })).body;
      assert.equal((await owner.api('POST', `/api/teams/${teamId}/keys`, { name: 'robot key', service_account_id: sa.id })).status, 201);
      const otherSa = (await gw.api('POST', `/api/teams/${other.teamId}/service-accounts`, { name: 'their robot' })).body;
      assert.equal((await gw.api('POST', `/api/teams/${teamId}/keys`, { name: 'x', service_account_id: otherSa.id })).body.error.param, 'service_account_id');
      // A personal key (no team) may be owned by any active user of the organization.
      assert.equal((await gw.api('POST', '/api/keys', { name: 'personal', user_id: outsider })).status, 201);
    });
  });
}
