// Seed 003's provisioned upstream keys on both dialects, against the fake OpenRouter management
// API: a member provisions an OpenRouter key out of their allocation (the secret shown once, the
// key held at the fake with its limit and expiry); the allocation is shared with their Tollgate
// keys' caps; a limit beyond it is refused with what remains and nothing is created; changes and
// revocation reach the provider (and a provider outage is retried by the sweeper); an expired key
// and a deactivated member's keys are deleted at the provider; nobody else sees or touches them;
// the audit trail has create/update/delete and no secret anywhere, logs included.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { ADMIN_KEY, DIALECTS, dialectSkip, startGateway, TestClock, type Gateway } from './support/gateway.ts';
import { startFakeUpstream } from './support/fake-upstream.ts';
import { openrouterOf, type FakeOpenRouter } from './support/fake-openrouter.ts';
import { signedInUser, type TestSession } from './support/sessions.ts';
import { reservationMark, reserve } from '../src/provisioning/provisioned-keys.repository.ts';
import { iso } from '../src/clock.ts';
import { loadConfig } from '../src/config.ts';
import { startRuntime } from '../src/runtime.ts';
import { loggerOptions } from '../src/logging.ts';

const DAY = 86_400_000;

/** A management key for the fake, made up at run time (never a real one). */
const managementKey = () => `sk-or-v1-fake-management-${randomBytes(12).toString('hex')}`;

/** An 'openrouter-provisioning' credential of the org pointing at the fake: it serves no model. */
async function provisioningCredential(gw: Gateway, secret: string, name: string): Promise<number> {
  const res = await gw.api('POST', '/api/providers', { name, provider: 'openrouter-provisioning', base_url: gw.fake.baseUrl + '/api/v1', api_key: secret });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.deepEqual(res.body.models, [], 'no route to a key that cannot call models');
  return res.body.id;
}

for (const dialect of DIALECTS) {
  describe(`provisioned upstream keys (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let gw: Gateway;
    let or: FakeOpenRouter;
    let credentialId: number;
    let n = 0;
    const clock = new TestClock(Date.now());
    const inDays = (days: number) => new Date(clock.now() + days * DAY).toISOString();

    before(async () => {
      gw = await startGateway({ dialect, clock });
      or = openrouterOf(gw.fake);
      or.managementKey = managementKey();
      credentialId = await provisioningCredential(gw, or.managementKey, 'openrouter-provisioning');
    });
    after(() => gw?.close());

    /** A team with self-service on, its owner, and two members with `allocation` each (USD; null: none). */
    const world = async (allocation: number | null = 50, policy: Record<string, unknown> = {}) => {
      const teamId = (await gw.api('POST', '/api/teams', { name: `Provisioning ${dialect} ${++n}` })).body.id as number;
      assert.equal((await gw.api('PUT', `/api/teams/${teamId}/self-service`, { enabled: true, ...policy })).status, 200);
      const user = async (role: 'owner' | 'member') => {
        const s = await signedInUser(gw, `pk-${dialect}-${++n}`, 'member', { [teamId]: role });
        if (allocation !== null) assert.equal((await gw.api('PUT', `/api/teams/${teamId}/members/${s.userId}`, { allocation_usd: allocation })).status, 200);
        return s;
      };
      return { teamId, owner: await user('owner'), alice: await user('member'), bob: await user('member') };
    };
    const provision = async (s: TestSession, body: Record<string, unknown>) => {
      const res = await s.api('POST', '/api/me/provisioned-keys', { credential_id: credentialId, ...body });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body;
    };
    const row = (id: number) => gw.runtime.deps.db.kysely.selectFrom('provisioned_keys').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const auditOf = (id: number) => gw.runtime.deps.db.kysely.selectFrom('audit_events').selectAll().where('target_type', '=', 'provisioned_key').where('target_id', '=', String(id)).orderBy('id').execute();

    test('a member provisions an OpenRouter key from their allocation: held at the provider with its limit and expiry, the secret shown once', async () => {
      const { teamId, alice } = await world(50, { require_expiry: true, max_expiry_days: 30 });
      const expires = inDays(7);
      const key = await provision(alice, { team_id: teamId, name: 'notebook', limit_usd: 20, expires_at: expires });
      assert.match(key.key, /^sk-or-v1-/);
      assert.equal(key.limit_usd, 20);
      assert.equal(key.status, 'active');
      assert.equal(key.user_id, alice.userId);
      assert.equal(key.key_hint, `...${key.key.slice(-4)}`);

      const held = [...or.keys.values()].find((k) => or.secrets.get(k.hash) === key.key);
      assert.ok(held, 'the fake holds the key');
      assert.equal(held.limit, 20);
      // Marked as Tollgate's until it is recorded (how a key a crash left unrecorded is found again).
      assert.match(held.name, /^notebook \(tollgate [0-9a-f]{12}\)$/);
      assert.equal(held.expires_at, expires);
      assert.equal(held.disabled, false);
      const stored = await row(key.id);
      assert.equal(stored.upstream_id, held.hash);
      assert.ok(!JSON.stringify(stored).includes(key.key), 'the secret is not stored');

      const mine = await alice.api('GET', '/api/me/provisioned-keys');
      assert.equal(mine.status, 200);
      assert.deepEqual(mine.body.data.map((k: any) => k.id), [key.id]);
      assert.equal(mine.body.data[0].key, undefined, 'never shown again');
      assert.ok(!JSON.stringify(mine.body).includes(key.key));
      // One key's detail asks the provider what it has spent.
      held.usage = 1.25;
      const detail = await alice.api('GET', `/api/me/provisioned-keys/${key.id}`);
      assert.equal(detail.status, 200);
      assert.equal(detail.body.usage_usd, 1.25);
      assert.equal(detail.body.key, undefined);

      const [created] = await auditOf(key.id);
      assert.equal(created!.action, 'provisioned_key.create');
      assert.equal(created!.actor_id, String(alice.userId));
      assert.equal(JSON.parse(created!.after!).limit_usd, 20);
      assert.ok(!JSON.stringify(created).includes(key.key), 'no secret in the audit trail');
    });

    test('a retried creation with the same Idempotency-Key makes one key at the provider; the replay leaves the secret out', async () => {
      const { teamId, alice } = await world(10);
      const before = or.keys.size;
      const send = () => fetch(gw.url + '/api/me/provisioned-keys', {
        method: 'POST',
        headers: { cookie: alice.cookie, 'x-csrf-token': alice.csrf, 'content-type': 'application/json', 'idempotency-key': `retry-${dialect}-${n}` },
        body: JSON.stringify({ team_id: teamId, credential_id: credentialId, name: 'retried', limit_usd: 4 }),
      });
      const [first, second] = await Promise.all([send(), send()]);
      const bodies = [await first.json() as any, await second.json() as any];
      assert.ok([first.status, second.status].every((st) => st === 200 || st === 201), `${first.status} ${second.status}`);
      assert.deepEqual([first, second].map((r) => r.headers.get('idempotent-replayed')).sort(), ['true', null].sort(), 'one of them is the replay');
      assert.equal(bodies[0].id, bodies[1].id, 'one key');
      assert.equal(or.keys.size, before + 1, 'one key at the provider');
      assert.equal(bodies.filter((b) => typeof b.key === 'string').length, 1, 'the secret in the first answer only');
    });

    test("the team's self-service policy applies: expiry required and bounded, ceiling, self-service off", async () => {
      const { teamId, alice } = await world(50, { require_expiry: true, max_expiry_days: 30, max_budget_usd: 10 });
      const before = or.keys.size;
      const missing = await alice.api('POST', '/api/me/provisioned-keys', { team_id: teamId, credential_id: credentialId, name: 'x', limit_usd: 5 });
      assert.equal(missing.status, 400);
      assert.equal(missing.body.error.param, 'expires_at');
      const far = await alice.api('POST', '/api/me/provisioned-keys', { team_id: teamId, credential_id: credentialId, name: 'x', limit_usd: 5, expires_at: inDays(40) });
      assert.equal(far.body.error.code, 'expiry_too_far');
      const dear = await alice.api('POST', '/api/me/provisioned-keys', { team_id: teamId, credential_id: credentialId, name: 'x', limit_usd: 11, expires_at: inDays(3) });
      assert.equal(dear.body.error.code, 'budget_above_ceiling');
      assert.equal(dear.body.error.param, 'limit_usd');
      const within = await provision(alice, { team_id: teamId, name: 'within', limit_usd: 10, expires_at: inDays(3) });
      const raised = await alice.api('PATCH', `/api/me/provisioned-keys/${within.id}`, { limit_usd: 12 });
      assert.equal(raised.body.error.code, 'budget_above_ceiling', 'a raise meets the ceiling too');
      for (const bad of [0, -1, 'ten']) {
        const res = await alice.api('POST', '/api/me/provisioned-keys', { team_id: teamId, credential_id: credentialId, name: 'x', limit_usd: bad, expires_at: inDays(3) });
        assert.equal(res.status, 400);
        assert.equal(res.body.error.param, 'limit_usd');
      }
      const off = await world(50);
      assert.equal((await gw.api('PUT', `/api/teams/${off.teamId}/self-service`, { enabled: false })).status, 200);
      const refused = await off.alice.api('POST', '/api/me/provisioned-keys', { team_id: off.teamId, credential_id: credentialId, name: 'x', limit_usd: 1 });
      assert.equal(refused.body.error.code, 'self_service_disabled');
      // A credential that is not a provisioning one is refused by name.
      const openai = (await gw.api('GET', '/api/providers')).body.data.find((c: any) => c.provider !== 'openrouter-provisioning');
      if (openai) {
        const wrong = await alice.api('POST', '/api/me/provisioned-keys', { team_id: teamId, credential_id: openai.id, name: 'x', limit_usd: 1, expires_at: inDays(3) });
        assert.equal(wrong.status, 400, JSON.stringify(wrong.body));
        assert.equal(wrong.body.error.param, 'credential_id');
      }
      const unknown = await alice.api('POST', '/api/me/provisioned-keys', { team_id: teamId, credential_id: 999999, name: 'x', limit_usd: 1, expires_at: inDays(3) });
      assert.equal(unknown.status, 400);
      assert.equal(unknown.body.error.param, 'credential_id');
      assert.equal(or.keys.size, before + 1, 'nothing else was created at the provider');
    });

    test('the allocation is shared with Tollgate keys: a limit beyond what remains is refused with the numbers, nothing created at the provider', async () => {
      const { teamId, alice } = await world(10);
      await provision(alice, { team_id: teamId, name: 'first', limit_usd: 6 });
      const before = or.keys.size;
      const over = await alice.api('POST', '/api/me/provisioned-keys', { team_id: teamId, credential_id: credentialId, name: 'second', limit_usd: 5 });
      assert.equal(over.status, 403, JSON.stringify(over.body));
      assert.equal(over.body.error.code, 'allocation_exceeded');
      assert.equal(over.body.error.param, 'limit_usd');
      assert.equal(over.body.error.remaining_usd, 4);
      assert.equal(over.body.error.allocation_usd, 10);
      assert.match(over.body.error.message, /\$4 remaining of \$10/);
      assert.equal(or.keys.size, before, 'nothing created at the provider');
      // A Tollgate key's cap draws on the same allocation.
      const capped = await alice.api('POST', '/api/me/keys', { team_id: teamId, name: 'tollgate key', max_budget_usd: 5 });
      assert.equal(capped.status, 403);
      assert.equal(capped.body.error.remaining_usd, 4);
      assert.equal((await alice.api('POST', '/api/me/keys', { team_id: teamId, name: 'tollgate key', max_budget_usd: 3 })).status, 201);
      const rest = await alice.api('POST', '/api/me/provisioned-keys', { team_id: teamId, credential_id: credentialId, name: 'third', limit_usd: 1.5 });
      assert.equal(rest.body.error.remaining_usd, 1);
      await provision(alice, { team_id: teamId, name: 'third', limit_usd: 1 });
      // …and the owner cannot lower the allocation below what is committed.
      const lower = await gw.api('PUT', `/api/teams/${teamId}/members/${alice.userId}`, { allocation_usd: 9 });
      assert.equal(lower.status, 409, JSON.stringify(lower.body));
      // No allocation at all: nothing to pay a provisioned key from.
      const none = await world(null);
      const refused = await none.alice.api('POST', '/api/me/provisioned-keys', { team_id: none.teamId, credential_id: credentialId, name: 'x', limit_usd: 1 });
      assert.equal(refused.status, 403);
      assert.equal(refused.body.error.param, 'limit_usd');
      assert.match(refused.body.error.message, /no allocation/);
    });

    test('simultaneous creations cannot overdraw the allocation: five $4 keys against $10 make exactly two', async () => {
      const { teamId, alice } = await world(10);
      const before = or.keys.size;
      const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => alice.api('POST', '/api/me/provisioned-keys', { team_id: teamId, credential_id: credentialId, name: `race ${i}`, limit_usd: 4 })));
      assert.deepEqual(answers.map((r) => r.status).sort(), [201, 201, 403, 403, 403], JSON.stringify(answers.map((r) => r.body.error?.code ?? r.status)));
      assert.equal(or.keys.size, before + 2, 'two keys at the provider');
    });

    test('changes reach the provider: a raised limit is checked against the allocation, lowering and disabling are pushed; audited', async () => {
      const { teamId, alice } = await world(10);
      const key = await provision(alice, { team_id: teamId, name: 'tweak', limit_usd: 4 });
      await provision(alice, { team_id: teamId, name: 'other', limit_usd: 3 });
      const held = or.keys.get((await row(key.id)).upstream_id)!;
      const over = await alice.api('PATCH', `/api/me/provisioned-keys/${key.id}`, { limit_usd: 8 });
      assert.equal(over.status, 403);
      assert.equal(over.body.error.param, 'limit_usd');
      assert.equal(over.body.error.remaining_usd, 7, 'its own limit is not counted against it');
      assert.equal(held.limit, 4, 'unchanged at the provider');
      const raised = await alice.api('PATCH', `/api/me/provisioned-keys/${key.id}`, { limit_usd: 7, name: 'renamed' });
      assert.equal(raised.status, 200, JSON.stringify(raised.body));
      assert.equal(raised.body.limit_usd, 7);
      assert.equal(held.limit, 7);
      assert.equal(held.name, 'renamed');
      const disabled = await alice.api('PATCH', `/api/me/provisioned-keys/${key.id}`, { disabled: true });
      assert.equal(disabled.body.status, 'disabled');
      assert.equal(held.disabled, true);
      const lowered = await alice.api('PATCH', `/api/me/provisioned-keys/${key.id}`, { limit_usd: 5 });
      assert.equal(lowered.body.limit_usd, 5);
      assert.equal(held.limit, 5);
      // A provider outage changes nothing, and the raise held for it is given back.
      or.failStatus = 503;
      try {
        const failed = await alice.api('PATCH', `/api/me/provisioned-keys/${key.id}`, { limit_usd: 6.5 });
        assert.equal(failed.status, 502, JSON.stringify(failed.body));
        assert.equal(failed.body.error.code, 'upstream_error');
      } finally {
        or.failStatus = undefined;
      }
      assert.equal(Number((await row(key.id)).limit_micro), 5_000_000);
      assert.equal(held.limit, 5);
      assert.equal((await alice.api('PATCH', `/api/me/provisioned-keys/${key.id}`, {})).body.error.param, 'body');
      const updates = (await auditOf(key.id)).filter((e) => e.action === 'provisioned_key.update');
      assert.equal(updates.length, 3);
      assert.equal(JSON.parse(updates[0]!.before!).limit_usd, 4);
      assert.equal(JSON.parse(updates[0]!.after!).limit_usd, 7);
    });

    test('revoking deletes the key at the provider and frees its limit; a provider outage is retried by the sweeper', async () => {
      const { teamId, alice } = await world(10);
      const key = await provision(alice, { team_id: teamId, name: 'short-lived', limit_usd: 10 });
      const hash = (await row(key.id)).upstream_id;
      const revoked = await alice.api('DELETE', `/api/me/provisioned-keys/${key.id}`);
      assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
      assert.equal(revoked.body.status, 'deleted');
      assert.equal(or.keys.has(hash), false, 'deleted at the provider');
      assert.deepEqual((await alice.api('GET', '/api/me/provisioned-keys')).body.data, [], 'a deleted key leaves the listing');
      assert.equal((await alice.api('GET', '/api/me/provisioned-keys?include_deleted=true')).body.data[0].status, 'deleted');
      const actions = (await auditOf(key.id)).map((e) => e.action);
      assert.deepEqual(actions, ['provisioned_key.create', 'provisioned_key.delete']);
      // The team's credit transactions (the owner's ledger) show both, with the amount.
      const ledger = (await gw.api('GET', `/api/teams/${teamId}/transactions`)).body.data.filter((t: any) => t.target_type === 'provisioned_key');
      assert.deepEqual(ledger.map((t: any) => [t.action, t.amount_usd]), [['provisioned_key.delete', 10], ['provisioned_key.create', 10]]);

      // The whole allocation is free again; this time the provider is down when it is revoked.
      const again = await provision(alice, { team_id: teamId, name: 'again', limit_usd: 10 });
      const againHash = (await row(again.id)).upstream_id;
      or.failStatus = 503;
      try {
        const pending = await alice.api('DELETE', `/api/me/provisioned-keys/${again.id}`);
        assert.equal(pending.status, 200);
        assert.equal(pending.body.status, 'deleting');
        const sweep = await gw.runtime.provisioning.tick();
        assert.ok(sweep.failed.includes(again.id));
      } finally {
        or.failStatus = undefined;
      }
      assert.equal(or.keys.has(againHash), true, 'still at the provider while it is down');
      // Until the provider confirms, its limit stays committed: it could still spend.
      const blocked = await alice.api('POST', '/api/me/provisioned-keys', { team_id: teamId, credential_id: credentialId, name: 'x', limit_usd: 1 });
      assert.equal(blocked.body.error.code, 'allocation_exceeded');
      const sweep = await gw.runtime.provisioning.tick();
      assert.ok(sweep.deleted.includes(again.id));
      assert.equal(or.keys.has(againHash), false);
      assert.equal((await row(again.id)).status, 'deleted');
      // Gone at the provider already (deleted by hand there): a 404 counts as deleted.
      const third = await provision(alice, { team_id: teamId, name: 'third', limit_usd: 1 });
      or.keys.delete((await row(third.id)).upstream_id);
      assert.equal((await alice.api('DELETE', `/api/me/provisioned-keys/${third.id}`)).body.status, 'deleted');
    });

    test('a provider that refuses the creation leaves nothing recorded', async () => {
      const { teamId, alice } = await world(10);
      or.failStatus = 500;
      try {
        const res = await alice.api('POST', '/api/me/provisioned-keys', { team_id: teamId, credential_id: credentialId, name: 'doomed', limit_usd: 5 });
        assert.equal(res.status, 502, JSON.stringify(res.body));
        assert.equal(res.body.error.code, 'upstream_error');
        assert.match(res.body.error.message, /500/);
      } finally {
        or.failStatus = undefined;
      }
      const rows = await gw.runtime.deps.db.kysely.selectFrom('provisioned_keys').selectAll().where('user_id', '=', alice.userId).execute();
      assert.deepEqual(rows, [], 'no row, not even a reservation');
      // Its reservation was given back: the whole allocation is there.
      await provision(alice, { team_id: teamId, name: 'fine', limit_usd: 10 });
    });

    test('an expired key is deleted at the provider by the sweeper, audited, and frees its limit', async () => {
      const { teamId, alice } = await world(10);
      const key = await provision(alice, { team_id: teamId, name: 'ephemeral', limit_usd: 10, expires_at: inDays(1) });
      const hash = (await row(key.id)).upstream_id;
      assert.deepEqual((await gw.runtime.provisioning.tick()).deleted, [], 'not yet');
      clock.advance(DAY + 1000);
      const sweep = await gw.runtime.provisioning.tick();
      assert.ok(sweep.deleted.includes(key.id));
      assert.equal(or.keys.has(hash), false);
      const stored = await row(key.id);
      assert.equal(stored.status, 'deleted');
      assert.ok(stored.deleted_at);
      const actions = (await auditOf(key.id)).map((e) => [e.action, e.actor_type, e.actor_id]);
      assert.deepEqual(actions.at(-1), ['provisioned_key.expire', 'system', 'provisioning']);
    });

    test("deactivating a member deletes their provisioned keys at the provider; a provider outage never blocks it and is retried", async () => {
      const { teamId, alice, bob } = await world(20);
      const a1 = await provision(alice, { team_id: teamId, name: 'a1', limit_usd: 2 });
      const a2 = await provision(alice, { team_id: teamId, name: 'a2', limit_usd: 3 });
      const b1 = await provision(bob, { team_id: teamId, name: 'b1', limit_usd: 2 });
      const hashes = await Promise.all([a1, a2, b1].map(async (k) => (await row(k.id)).upstream_id));
      const res = await gw.api('POST', `/api/users/${alice.userId}/deactivate`, {});
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(or.keys.has(hashes[0]!), false);
      assert.equal(or.keys.has(hashes[1]!), false);
      assert.equal(or.keys.has(hashes[2]!), true, "another member's key stays");
      assert.equal((await row(a1.id)).status, 'deleted');
      const events = (await auditOf(a2.id)).filter((e) => e.action === 'provisioned_key.delete');
      assert.equal(JSON.parse(events[0]!.after!).reason, 'owner_deactivated');

      or.failStatus = 502;
      let down: number;
      try {
        const t0 = performance.now();
        const bobs = await gw.api('POST', `/api/users/${bob.userId}/deactivate`, {});
        down = performance.now() - t0;
        assert.equal(bobs.status, 200, 'the deactivation does not wait on the provider');
        assert.equal((await row(b1.id)).status, 'active');
        assert.ok((await row(b1.id)).deleted_at, 'revoked, its deletion pending');
      } finally {
        or.failStatus = undefined;
      }
      assert.ok(down < 5000);
      await gw.runtime.provisioning.tick();
      assert.equal(or.keys.has(hashes[2]!), false);
      assert.equal((await row(b1.id)).status, 'deleted');
    });

    test('a reservation a crash left behind: the key the provider made for it is found by its mark and deleted, its limit given back', async () => {
      const { teamId, alice } = await world(10);
      const deps = gw.runtime.deps;
      const held = await deps.db.kysely.transaction().execute((trx) => reserve(trx, { orgId: deps.defaultOrgId, teamId, userId: alice.userId, credentialId, name: 'crashed', limitMicro: 10_000_000, expiresAt: null }, iso(clock.now())));
      // The provider made the key, and the process died before recording it; another key of the
      // account has the same name but not the mark.
      const make = (name: string) => fetch(gw.fake.baseUrl + '/api/v1/keys', { method: 'POST', headers: { authorization: `Bearer ${or.managementKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ name, limit: 10 }) }).then((r) => r.json() as Promise<any>);
      const orphan = await make(`crashed ${reservationMark(held)}`);
      const unrelated = await make('crashed');
      const blocked = await alice.api('POST', '/api/me/provisioned-keys', { team_id: teamId, credential_id: credentialId, name: 'x', limit_usd: 1 });
      assert.equal(blocked.body.error.code, 'allocation_exceeded', 'the reservation holds the allocation meanwhile');
      assert.ok(!(await gw.runtime.provisioning.tick()).undone.includes(held.id), 'not before 10 minutes');
      clock.advance(11 * 60_000);
      or.failStatus = 503;
      try {
        assert.ok((await gw.runtime.provisioning.tick()).failed.includes(held.id), 'kept while the provider is down');
      } finally {
        or.failStatus = undefined;
      }
      assert.ok((await gw.runtime.provisioning.tick()).undone.includes(held.id));
      assert.equal(or.keys.has(orphan.data.hash), false, 'deleted at the provider');
      assert.equal(or.keys.has(unrelated.data.hash), true, 'a key without the mark is left alone');
      assert.equal(await deps.db.kysely.selectFrom('provisioned_keys').select('id').where('id', '=', held.id).executeTakeFirst(), undefined);
      await provision(alice, { team_id: teamId, name: 'after', limit_usd: 10 });
    });

    test("removing a member from a team deletes their provisioned keys of that team at the provider, not those of another team", async () => {
      const { teamId, alice } = await world(10);
      const other = await world(10);
      assert.equal((await gw.api('PUT', `/api/teams/${other.teamId}/members/${alice.userId}`, { role: 'member', allocation_usd: 5 })).status, 200);
      const here = await provision(alice, { team_id: teamId, name: 'here', limit_usd: 2 });
      const there = await provision(alice, { team_id: other.teamId, name: 'there', limit_usd: 2 });
      const [hereHash, thereHash] = await Promise.all([here, there].map(async (k) => (await row(k.id)).upstream_id));
      assert.equal((await gw.api('DELETE', `/api/teams/${teamId}/members/${alice.userId}`)).status, 200);
      assert.equal(or.keys.has(hereHash!), false, 'deleted at the provider');
      assert.equal(or.keys.has(thereHash!), true, "the other team's key stays");
      assert.equal((await row(here.id)).status, 'deleted');
      const [event] = (await auditOf(here.id)).filter((e) => e.action === 'provisioned_key.delete');
      assert.equal(JSON.parse(event!.after!).reason, 'owner_removed_from_team');
    });

    test('a member deactivated while their key is being created at the provider gets no key: it is deleted there again', async () => {
      const { teamId, alice } = await world(10);
      const before = or.keys.size;
      gw.fake.options.latencyMs = 400;
      try {
        const creating = alice.api('POST', '/api/me/provisioned-keys', { team_id: teamId, credential_id: credentialId, name: 'racing', limit_usd: 5 });
        await new Promise((resolve) => setTimeout(resolve, 150));
        assert.equal((await gw.api('POST', `/api/users/${alice.userId}/deactivate`, {})).status, 200);
        const res = await creating;
        assert.equal(res.status, 403, JSON.stringify(res.body));
        assert.match(res.body.error.message, /deactivated/);
      } finally {
        gw.fake.options.latencyMs = 0;
      }
      assert.equal(or.keys.size, before, 'nothing left at the provider');
      const rows = await gw.runtime.deps.db.kysely.selectFrom('provisioned_keys').selectAll().where('user_id', '=', alice.userId).execute();
      assert.deepEqual(rows, []);
    });

    test('another member, another team owner and another organization cannot see or touch it; the team owner and admins can', async () => {
      const { teamId, owner, alice, bob } = await world(10);
      const key = await provision(alice, { team_id: teamId, name: 'private', limit_usd: 2 });
      for (const [method, p, body] of [
        ['GET', `/api/me/provisioned-keys/${key.id}`, undefined],
        ['PATCH', `/api/me/provisioned-keys/${key.id}`, { limit_usd: 1 }],
        ['DELETE', `/api/me/provisioned-keys/${key.id}`, undefined],
      ] as const) {
        const res = await bob.api(method, p, body);
        assert.ok([403, 404].includes(res.status), `${method} ${p}: ${res.status}`);
        assert.ok(!JSON.stringify(res.body).includes('private'));
      }
      assert.deepEqual((await bob.api('GET', '/api/me/provisioned-keys')).body.data, []);
      assert.equal((await bob.api('DELETE', `/api/provisioned-keys/${key.id}`)).status, 403, 'a member is not an owner of the team');
      assert.equal((await bob.api('GET', '/api/provisioned-keys')).status, 403, "the team listing is for owners and admins");
      const elsewhere = await world(10);
      assert.equal((await elsewhere.owner.api('DELETE', `/api/provisioned-keys/${key.id}`)).status, 403);
      assert.ok(!(await elsewhere.owner.api('GET', '/api/provisioned-keys')).body.data.some((k: any) => k.id === key.id));
      const other = (await gw.api('POST', '/api/orgs', { name: `Elsewhere ${dialect} ${++n}` })).body.admin_key as string;
      assert.equal((await gw.api('GET', `/api/provisioned-keys`, undefined, other)).body.data.length, 0);
      assert.equal((await gw.api('DELETE', `/api/provisioned-keys/${key.id}`, undefined, other)).status, 404);
      // With a key instead of a session, /api/me has no keys of its own.
      assert.equal((await gw.api('GET', '/api/me/provisioned-keys', undefined, ADMIN_KEY)).status, 400);
      assert.equal(or.keys.has((await row(key.id)).upstream_id), true, 'untouched');

      const listed = await owner.api('GET', `/api/provisioned-keys?team_id=${teamId}`);
      assert.deepEqual(listed.body.data.map((k: any) => k.id), [key.id]);
      assert.equal(listed.body.data[0].key, undefined);
      assert.equal((await gw.api('GET', `/api/provisioned-keys?user_id=${alice.userId}`)).body.data.length, 1);
      const revoked = await owner.api('DELETE', `/api/provisioned-keys/${key.id}`);
      assert.equal(revoked.status, 200);
      assert.equal(revoked.body.status, 'deleted');
      assert.equal(or.keys.has((await row(key.id)).upstream_id), false);
      assert.equal((await auditOf(key.id)).at(-1)!.actor_id, String(owner.userId));
    });

    test('a provisioning credential: never routed to, listed to members without a secret, not deleted while its keys live', async () => {
      const withModels = await gw.api('POST', '/api/providers', { name: 'pk-routed', provider: 'openrouter-provisioning', base_url: gw.fake.baseUrl + '/api/v1', api_key: managementKey(), models: ['gpt-4o'] });
      assert.equal(withModels.status, 400);
      assert.equal(withModels.body.error.param, 'models');
      const routed = await gw.api('POST', '/api/routes', { model: 'pk-model', deployments: [{ credential_id: credentialId }] });
      assert.equal(routed.status, 400);
      assert.equal(routed.body.error.param, 'deployments[0].credential_id');

      const { teamId, alice } = await world(30);
      const listed = await alice.api('GET', '/api/me/provisioning-credentials');
      assert.equal(listed.status, 200);
      const mine = listed.body.data.find((c: { id: number }) => c.id === credentialId);
      assert.deepEqual(mine, { id: credentialId, name: 'openrouter-provisioning', provider: 'openrouter-provisioning', team_id: null });
      assert.ok(!JSON.stringify(listed.body).includes(or.managementKey!.slice(-4)), 'not even the hint');
      assert.ok(listed.body.data.every((c: { provider: string }) => c.provider === 'openrouter-provisioning'), 'only provisioning credentials');

      const other = await provisioningCredential(gw, managementKey(), 'pk-deletable');
      const key = await provision(alice, { team_id: teamId, name: 'blocks-delete', limit_usd: 5 });
      const refused = await gw.api('DELETE', `/api/providers/${credentialId}`);
      assert.equal(refused.status, 409, JSON.stringify(refused.body));
      assert.match(refused.body.error.message, /provisioned key/);
      assert.equal(or.keys.has((await row(key.id)).upstream_id), true, 'the key is still deletable at the provider');
      assert.equal((await gw.api('DELETE', `/api/providers/${other}`)).status, 200, 'one without keys goes');
      assert.equal((await alice.api('DELETE', `/api/me/provisioned-keys/${key.id}`)).status, 200);
    });

    test('the provisioning credential cannot serve models, and no secret is in any audit row', async () => {
      const spec = (await import('../src/providers/registry.ts')).PROVIDERS.get('openrouter-provisioning');
      assert.ok(spec);
      assert.equal(spec.defaultBaseUrl, 'https://openrouter.ai/api/v1');
      for (const endpoint of ['chat/completions', 'messages', 'responses', 'embeddings'] as const) {
        const x = spec.adapter.exchange({ endpoint } as any);
        assert.ok('unsupported' in x && /cannot call models/.test(x.unsupported));
      }
      const audit = JSON.stringify(await gw.runtime.deps.db.kysely.selectFrom('audit_events').selectAll().execute());
      for (const secret of [...or.secrets.values(), or.managementKey!]) assert.ok(!audit.includes(secret), 'a secret in the audit trail');
    });
  });
}

describe('provisioned upstream keys: logs', () => {
  test('no secret (issued key, management key) in any log line, the access log on and debug level', async () => {
    const fake = await startFakeUpstream();
    const or = openrouterOf(fake);
    or.managementKey = managementKey();
    const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-prov-'));
    const config = loadConfig({
      TOLLGATE_DATA_DIR: dir, TOLLGATE_DATABASE_URL: `sqlite:${path.join(dir, 'db')}`, TOLLGATE_ADMIN_KEY: ADMIN_KEY,
      TOLLGATE_UPSTREAM_ALLOW: '127.0.0.1', TOLLGATE_ACCESS_LOG: 'true', TOLLGATE_LOG_LEVEL: 'debug', TOLLGATE_AUTH_FAILURES_PER_MINUTE: '0',
    });
    const out = new PassThrough();
    let logs = '';
    out.on('data', (d) => (logs += d));
    const runtime = await startRuntime(config, { logger: loggerOptions({ logLevel: 'debug', logFormat: 'json' }, out) });
    const url = await runtime.app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const gw = { url, runtime, fake, api: async (method: string, p: string, body?: unknown) => {
        const res = await fetch(url + p, { method, headers: { 'x-admin-key': ADMIN_KEY, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
        return { status: res.status, body: await res.json() };
      } } as unknown as Gateway;
      const credentialId = await provisioningCredential(gw, or.managementKey, 'logged');
      const teamId = (await gw.api('POST', '/api/teams', { name: 'Logged' })).body.id;
      await gw.api('PUT', `/api/teams/${teamId}/self-service`, { enabled: true });
      const alice = await signedInUser(gw, 'pk-logs-alice', 'member', { [teamId]: 'member' });
      await gw.api('PUT', `/api/teams/${teamId}/members/${alice.userId}`, { allocation_usd: 10 });
      const key = (await alice.api('POST', '/api/me/provisioned-keys', { team_id: teamId, credential_id: credentialId, name: 'logged', limit_usd: 2 })).body;
      assert.match(key.key, /^sk-or-v1-/);
      await alice.api('GET', `/api/me/provisioned-keys/${key.id}`);
      // A failing provider is logged by the sweeper: its line must not carry a secret either.
      or.failStatus = 500;
      await alice.api('DELETE', `/api/me/provisioned-keys/${key.id}`);
      await runtime.provisioning.tick();
      or.failStatus = undefined;
      await runtime.provisioning.tick();
      assert.match(logs, /deleting a provisioned key at the provider failed/);
      assert.match(logs, /provisioned-keys/, 'the access log was on');
      for (const secret of [key.key, or.managementKey]) assert.ok(!logs.includes(secret), 'a secret in the logs');
    } finally {
      await runtime.close();
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
