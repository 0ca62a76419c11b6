// Users (docs/people.md#users) on both dialects: create with a password, identity uniqueness,
// filters, search and cursor paging, a role change seen by the user's very next request, and
// offboarding: sessions end, owned keys are refused on /v1 at once (on every replica), service-account
// keys keep working, all in one transaction.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { DIALECTS, dialectSkip, startGateway, type Gateway } from './support/gateway.ts';
import { sessionFor, signedInUser } from './support/sessions.ts';
import { serviceSkip } from './support/services.ts';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.ts';
import { clusterEnv, startReplica, type Replica } from './support/replicas.ts';

const chat = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'hi' }] };

for (const dialect of DIALECTS) {
  describe(`users (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let gw: Gateway;
    const db = () => gw.runtime.deps.db.kysely;
    const auditCount = async () => Number((await db().selectFrom('audit_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const team = async (name: string) => (await gw.api('POST', '/api/teams', { name })).body.id as number;
    const user = async (body: Record<string, unknown>) => {
      const res = await gw.api('POST', '/api/users', body);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body;
    };

    before(async () => {
      gw = await startGateway({ dialect });
    });
    after(() => gw?.close());

    test('create: a password is stored as an argon2id hash and never shown; bad input is 400 naming the field', async () => {
      const password = 'correct horse battery staple';
      const u = await user({ external_id: 'pw-user', email: 'PW@Example.com', password });
      assert.equal(u.password_set, true);
      assert.ok(!JSON.stringify(u).includes(password) && !('password_hash' in u));
      const row = await db().selectFrom('users').select('password_hash').where('id', '=', u.id).executeTakeFirstOrThrow();
      assert.match(row.password_hash ?? '', /^\$argon2id\$/);
      const audit = JSON.stringify(await db().selectFrom('audit_events').selectAll().where('target_type', '=', 'user').where('target_id', '=', String(u.id)).execute());
      assert.ok(audit.includes('user.create') && !audit.includes(password) && !audit.includes(row.password_hash!));

      const n = await auditCount();
      for (const [body, param] of [
        [{ external_id: 'short-pw', password: 'short' }, 'password'],
        [{ external_id: 'bad-role', role: 'owner' }, 'role'],
        [{ external_id: 'x', team_role: 'owner' }, 'team_role'],
        [{ external_id: 'x', email: 'nope' }, 'email'],
        [{ external_id: '' }, 'external_id'],
        [{ external_id: 'x', password_hash: 'x' }, 'password_hash'],
      ] as const) {
        const res = await gw.api('POST', '/api/users', body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.error.param, param, res.body.error.message);
      }
      assert.equal(await auditCount(), n, 'nothing written');
    });

    test('external_id and email are unique per organization (email case-insensitively): 409 naming the field', async () => {
      const a = await user({ external_id: 'uniq-a', email: 'Uniq@Example.com' });
      const b = await user({ external_id: 'uniq-b', email: 'other@example.com' });
      let res = await gw.api('POST', '/api/users', { external_id: 'uniq-c', email: 'uniq@EXAMPLE.com' });
      assert.equal(res.status, 409);
      assert.equal(res.body.error.param, 'email');
      res = await gw.api('POST', '/api/users', { external_id: 'uniq-a' });
      assert.equal(res.status, 409);
      assert.equal(res.body.error.param, 'external_id');
      res = await gw.api('PATCH', `/api/users/${b.id}`, { email: 'UNIQ@example.com' });
      assert.equal(res.status, 409);
      assert.equal(res.body.error.param, 'email');
      res = await gw.api('PATCH', `/api/users/${b.id}`, { external_id: 'uniq-a' });
      assert.equal(res.status, 409);
      assert.equal(res.body.error.param, 'external_id');
      // Its own email in another case is not a conflict with itself.
      res = await gw.api('PATCH', `/api/users/${a.id}`, { email: 'uniq@example.com' });
      assert.equal(res.status, 200);
      assert.equal(res.body.email, 'uniq@example.com');
      // The index holds even for a write that skips the API's check (another organization may reuse it).
      await assert.rejects(db().insertInto('users').values({ org_id: 1, external_id: 'raw', email: 'UNIQ@example.COM', created_at: 'x', updated_at: 'x' }).execute());
      const other = (await gw.api('POST', '/api/orgs', { name: 'Uniq Other Org' })).body;
      res = await gw.api('POST', '/api/users', { external_id: 'uniq-a', email: 'uniq@example.com' }, other.admin_key);
      assert.equal(res.status, 201, 'another organization has its own users');
    });

    test('list: filters, search and cursor paging', async () => {
      const red = await team('Red list team');
      const blue = await team('Blue list team');
      const made = [
        await user({ external_id: 'lst-ann', name: 'Ann Example', email: 'ann@list.example', team_id: red, team_role: 'owner' }),
        await user({ external_id: 'lst-bob', name: 'Bob 100%_sure', email: 'bob@list.example', team_id: red }),
        await user({ external_id: 'lst-cat', name: 'Cat', email: 'CAT@List.Example', role: 'viewer', team_id: blue }),
        await user({ external_id: 'lst-dan', name: 'Dan', email: 'dan@list.example', role: 'admin' }),
        await user({ external_id: 'lst-eve', name: 'Eve', email: 'eve@list.example' }),
      ];
      assert.equal((await gw.api('POST', `/api/users/${made[4].id}/deactivate`)).status, 200);
      const ids = async (query: string) => {
        const res = await gw.api('GET', `/api/users?${query}`);
        assert.equal(res.status, 200, `${query}: ${JSON.stringify(res.body)}`);
        return res.body.data.map((u: any) => u.external_id).filter((x: string) => x.startsWith('lst-'));
      };
      assert.deepEqual(await ids('external_id=lst-bob'), ['lst-bob']);
      assert.deepEqual(await ids('email=cat@list.example'), ['lst-cat'], 'email: exact, case-insensitive');
      assert.deepEqual(await ids('email=cat@list'), [], 'email is exact');
      assert.deepEqual(await ids('q=LIST.EXAMPLE'), ['lst-ann', 'lst-bob', 'lst-cat', 'lst-dan', 'lst-eve'], 'q: email substring, any case');
      assert.deepEqual(await ids('q=ann%20ex'), ['lst-ann'], 'q: name substring');
      assert.deepEqual(await ids('q=lst-d'), ['lst-dan'], 'q: external_id substring');
      assert.deepEqual(await ids('q=100%25_'), ['lst-bob'], '% and _ match literally');
      assert.deepEqual(await ids('q=a_n'), [], '_ is not a wildcard (it would match "ann")');
      assert.deepEqual(await ids(`team_id=${red}`), ['lst-ann', 'lst-bob']);
      assert.deepEqual(await ids('role=viewer'), ['lst-cat']);
      assert.deepEqual(await ids('role=admin&q=lst'), ['lst-dan']);
      assert.deepEqual(await ids('status=deactivated'), ['lst-eve']);
      assert.deepEqual(await ids(`status=active&team_id=${red}&q=BOB`), ['lst-bob']);

      // Cursor paging walks every user exactly once, in id order.
      const all = (await gw.api('GET', '/api/users?limit=1000')).body.data.map((u: any) => u.id);
      const walked: number[] = [];
      let after: number | null = null;
      for (let pages = 0; pages < 100; pages++) {
        const res: any = await gw.api('GET', `/api/users?limit=2${after === null ? '' : `&after=${after}`}`);
        walked.push(...res.body.data.map((u: any) => u.id));
        after = res.body.next_after;
        if (after === null) break;
      }
      assert.deepEqual(walked, all);
      assert.deepEqual(all, [...all].sort((a, b) => a - b));

      for (const [query, param] of [['after=1&offset=2', 'query.after'], ['role=owner', 'query.role'], ['status=gone', 'query.status'], ['team_id=x', 'query.team_id'], ['limit=0', 'query.limit'], ['colour=red', 'query.colour'], ['q=', 'query.q']]) {
        const res = await gw.api('GET', `/api/users?${query}`);
        assert.equal(res.status, 400, query);
        assert.equal(res.body.error.param, param, `${query}: ${res.body.error.message}`);
      }
    });

    test('get: the user with their teams and roles; who may list and read', async () => {
      const t1 = await team('Get team one');
      const t2 = await team('Get team two');
      const u = await user({ external_id: 'get-user', team_id: t1, team_role: 'owner' });
      await gw.api('PUT', `/api/teams/${t2}/members/${u.id}`, { role: 'member' });
      const res = await gw.api('GET', `/api/users/${u.id}`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.teams.map((t: any) => [t.team_id, t.role]), [[t1, 'owner'], [t2, 'member']]);

      // A team owner lists users (to find people to add); a plain member may not; anyone reads themself.
      const owner = await sessionFor(gw, u.id);
      assert.equal((await owner.api('GET', '/api/users')).status, 200);
      const member = await signedInUser(gw, 'get-member', 'member', { [t1]: 'member' });
      assert.equal((await member.api('GET', '/api/users')).status, 403);
      assert.equal((await member.api('GET', `/api/users/${member.userId}`)).status, 200);
      assert.equal((await member.api('GET', `/api/users/${u.id}`)).status, 403);
      assert.equal((await owner.api('PATCH', `/api/users/${member.userId}`, { name: 'x' })).status, 403, 'only admins change users');
      assert.equal((await owner.api('POST', `/api/users/${member.userId}/deactivate`)).status, 403, 'only admins deactivate');
      assert.equal((await gw.api('GET', '/api/users/999999')).status, 404);
    });

    test("a role change is audited and applies to the user's very next request", async () => {
      const member = await signedInUser(gw, 'promoted', 'member');
      assert.equal((await member.api('POST', '/api/teams', { name: 'Not yet' })).status, 403);
      const res = await gw.api('PATCH', `/api/users/${member.userId}`, { role: 'admin', name: 'Promoted Person' });
      assert.equal(res.status, 200);
      assert.equal(res.body.role, 'admin');
      assert.equal((await member.api('POST', '/api/teams', { name: 'Now allowed' })).status, 201, 'same session, new role');
      const events = await db().selectFrom('audit_events').selectAll().where('target_type', '=', 'user').where('target_id', '=', String(member.userId)).orderBy('id').execute();
      const change = events.find((e) => e.action === 'user.role_change');
      assert.ok(change, events.map((e) => e.action).join());
      assert.deepEqual([JSON.parse(change.before!), JSON.parse(change.after!)], [{ role: 'member' }, { role: 'admin' }]);
      const update = events.find((e) => e.action === 'user.update');
      assert.deepEqual(JSON.parse(update!.after!), { name: 'Promoted Person' });
      // An admin does not change their own role (the organization could lose its last admin).
      const self = await member.api('PATCH', `/api/users/${member.userId}`, { role: 'member' });
      assert.equal(self.status, 400);
      assert.equal(self.body.error.param, 'role');
    });

    test('deactivation: sessions end, owned keys are refused on /v1 at once, service-account keys keep working', async () => {
      const t = await team('Offboarding team');
      const leaver = await signedInUser(gw, 'leaver', 'member', { [t]: 'member' });
      const teamKey = (await gw.api('POST', `/api/teams/${t}/keys`, { name: 'leaver team key', user_id: leaver.userId })).body;
      const personalKey = (await gw.api('POST', '/api/keys', { name: 'leaver personal key', user_id: leaver.userId })).body;
      const sa = (await gw.api('POST', `/api/teams/${t}/service-accounts`, { name: 'ci robot' })).body;
      const robotKey = (await gw.api('POST', `/api/teams/${t}/keys`, { name: 'robot key', service_account_id: sa.id })).body;
      for (const k of [teamKey, personalKey, robotKey]) assert.ok(k.key, JSON.stringify(k));
      // Warm every key's cache entry: the refusal must not wait for an expiry.
      for (const k of [teamKey, personalKey, robotKey]) assert.equal((await gw.openai(k.key).chat.completions.create(chat)).object, 'chat.completion');
      assert.equal((await leaver.api('GET', `/api/users/${leaver.userId}`)).status, 200, 'signed in');

      const res = await gw.api('POST', `/api/users/${leaver.userId}/deactivate`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.status, 'deactivated');
      assert.ok(res.body.deactivated_at);
      assert.deepEqual(res.body.disabled_key_ids, [teamKey.id, personalKey.id].sort((a, b) => a - b));
      assert.equal(res.body.sessions_ended, 1);

      const after = await leaver.api('GET', `/api/users/${leaver.userId}`);
      assert.equal(after.status, 401);
      assert.equal(after.body.error.code, 'session_expired');
      for (const k of [teamKey, personalKey]) {
        await assert.rejects(gw.openai(k.key).chat.completions.create(chat), (err: any) => err.status === 403 && err.code === 'key_disabled');
      }
      assert.equal((await gw.openai(robotKey.key).chat.completions.create(chat)).object, 'chat.completion', "the team's service-account key is not the person's");
      const keys = (await gw.api('GET', `/api/keys?user_id=${leaver.userId}`)).body.data;
      assert.deepEqual(keys.map((k: any) => k.status), ['disabled', 'disabled']);

      const event = await db().selectFrom('audit_events').selectAll().where('action', '=', 'user.deactivate').where('target_id', '=', String(leaver.userId)).executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(event.after!).disabled_key_ids, res.body.disabled_key_ids);
      assert.equal(JSON.parse(event.before!).status, 'active');

      // While the user is deactivated, no one can turn their keys back on (an owner or admin by mistake).
      const early = await gw.api('PATCH', `/api/keys/${teamKey.id}`, { status: 'active' });
      assert.equal(early.status, 409, JSON.stringify(early.body));
      assert.equal(early.body.error.param, 'status');
      await assert.rejects(gw.openai(teamKey.key).chat.completions.create(chat), (err: any) => err.status === 403);

      // Reactivation lets them sign in again; their keys stay disabled until re-enabled one by one.
      const back = await gw.api('POST', `/api/users/${leaver.userId}/reactivate`);
      assert.equal(back.status, 200);
      assert.equal(back.body.status, 'active');
      assert.equal(back.body.deactivated_at, null);
      await assert.rejects(gw.openai(teamKey.key).chat.completions.create(chat), (err: any) => err.status === 403);
      assert.equal((await gw.api('PATCH', `/api/keys/${teamKey.id}`, { status: 'active' })).status, 200);
      assert.equal((await gw.openai(teamKey.key).chat.completions.create(chat)).object, 'chat.completion');
      assert.ok(await db().selectFrom('audit_events').select('id').where('action', '=', 'user.reactivate').where('target_id', '=', String(leaver.userId)).executeTakeFirst());
    });

    test('deactivation refusals change nothing: yourself (400), unknown user (404), a body (400)', async () => {
      const admin = await signedInUser(gw, 'self-admin', 'admin');
      const other = await user({ external_id: 'body-user' });
      const n = await auditCount();
      let res = await admin.api('POST', `/api/users/${admin.userId}/deactivate`);
      assert.equal(res.status, 400);
      assert.equal(res.body.error.param, 'id');
      assert.equal((await admin.api('GET', `/api/users/${admin.userId}`)).status, 200, 'still signed in');
      res = await gw.api('POST', '/api/users/999999/deactivate');
      assert.equal(res.status, 404);
      res = await gw.api('POST', `/api/users/${other.id}/deactivate`, { reason: 'x' });
      assert.equal(res.status, 400);
      assert.equal(res.body.error.param, 'reason');
      assert.equal((await gw.api('GET', `/api/users/${other.id}`)).body.status, 'active');
      assert.equal(await auditCount(), n);
    });

    test('deactivation is one transaction: a failure ending the sessions leaves the user and their keys as they were', async () => {
      const t = await team('Atomic team');
      const u = await signedInUser(gw, 'atomic', 'member', { [t]: 'member' });
      const key = (await gw.api('POST', `/api/teams/${t}/keys`, { name: 'atomic key', user_id: u.userId })).body;
      // The last write of the transaction (ending the sessions) fails.
      if (dialect === 'sqlite') {
        await sql`create trigger fail_session_revoke before update on sessions begin select raise(abort, 'injected failure'); end`.execute(db());
      } else {
        await sql`create function fail_session_revoke() returns trigger language plpgsql as $$ begin raise exception 'injected failure'; end $$`.execute(db());
        await sql`create trigger fail_session_revoke before update on sessions for each row execute function fail_session_revoke()`.execute(db());
      }
      const n = await auditCount();
      try {
        const res = await gw.api('POST', `/api/users/${u.userId}/deactivate`);
        assert.equal(res.status, 500);
        assert.ok(!JSON.stringify(res.body).includes('injected'), 'internal details stay internal');
      } finally {
        await sql`drop trigger fail_session_revoke${sql.raw(dialect === 'postgres' ? ' on sessions' : '')}`.execute(db());
        if (dialect === 'postgres') await sql`drop function fail_session_revoke()`.execute(db());
      }
      const row = await db().selectFrom('users').select(['status', 'deactivated_at']).where('id', '=', u.userId).executeTakeFirstOrThrow();
      assert.deepEqual(row, { status: 'active', deactivated_at: null });
      assert.equal((await gw.api('GET', `/api/keys/${key.id}`)).body.status, 'active');
      assert.equal((await gw.openai(key.key).chat.completions.create(chat)).object, 'chat.completion');
      assert.equal(await auditCount(), n);
      // …and once the failure is gone, the same request goes through.
      assert.equal((await gw.api('POST', `/api/users/${u.userId}/deactivate`)).status, 200);
      assert.equal((await gw.api('GET', `/api/keys/${key.id}`)).body.status, 'disabled');
    });
  });
}

describe('offboarding reaches every replica (PostgreSQL + Redis, two processes)', { skip: serviceSkip('postgres') || serviceSkip('redis') }, () => {
  const adminKey = `admin-${randomUUID()}`;
  const upstreamKey = 'sk-upstream-offboarding';
  let a: Replica;
  let b: Replica;
  let fake: FakeUpstream;
  before(async () => {
    fake = await startFakeUpstream({ requireAuth: upstreamKey });
    const env = await clusterEnv(adminKey, upstreamKey, fake.baseUrl);
    [a, b] = await Promise.all([startReplica('a', env, adminKey), startReplica('b', env, adminKey)]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await fake?.close();
  });

  test('a key warm on replica B is refused once the user is deactivated through replica A', async () => {
    const team = (await a.api('POST', '/api/teams', { name: 'Replicated offboarding' })).body;
    const user = (await a.api('POST', '/api/users', { external_id: 'replicated-leaver', team_id: team.id })).body;
    const key = (await a.api('POST', `/api/teams/${team.id}/keys`, { name: 'warm on b', user_id: user.id })).body.key as string;
    const status = () => b.openai(key).chat.completions.create(chat).then(() => 200, (err: any) => `${err.status} ${err.code}`);
    assert.equal(await status(), 200, 'warm in B');
    assert.equal((await a.api('POST', `/api/users/${user.id}/deactivate`)).status, 200);
    // Bounded poll: the invalidation crosses Redis pub/sub (the design's bound is one second).
    const deadline = Date.now() + 5000;
    let got: number | string;
    while ((got = await status()) !== '403 key_disabled') {
      assert.ok(Date.now() < deadline, `replica B still answers ${got}`);
      await sleep(20);
    }
  });
});
