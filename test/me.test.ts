// GET /api/me and PUT /api/me/password on a real server, SQLite and PostgreSQL: a member sees their
// teams, allocation, spend and what is left after a real request through the openai SDK; a
// management key and the master key describe themselves; a password change ends the person's other
// sessions, is audited without the passwords, and guesses of the current one are throttled.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, dialectSkip, type Gateway } from './support/gateway.ts';
import { CREDITS_MODEL, startPricedGateway } from './support/priced.ts';
import { login, signIn, userWithPassword } from './support/people.ts';
import { generateKey, hashSecret, displayPrefix, MANAGEMENT_KEY_PREFIX } from '../src/keys/key-format.ts';

const PASSWORD = 'member-password-0001';

for (const dialect of DIALECTS) describe(`/api/me (${dialect})`, { skip: dialectSkip(dialect) }, () => {
  let gw: Gateway;
  let teamId: number;
  let otherTeamId: number;
  let memberId: number;

  before(async () => {
    gw = await startPricedGateway({ dialect, env: { TOLLGATE_TRUST_PROXY: 'true', TOLLGATE_LOGIN_MAX_FAILURES: '3' } });
    teamId = (await gw.api('POST', '/api/teams', { name: 'Research' })).body.id;
    otherTeamId = (await gw.api('POST', '/api/teams', { name: 'Platform' })).body.id;
    memberId = await userWithPassword(gw, 'member@example.com', PASSWORD, { teams: { [teamId]: 'member', [otherTeamId]: 'owner' } });
  });
  after(() => gw?.close());

  test('a member: user, org role, teams with roles, allocation, spend, what is left, self-service policy', async () => {
    // seed 003: a $20 monthly allocation in Research, a $10 sub-key carved out of it, one $6 request
    assert.equal((await gw.api('PUT', `/api/teams/${teamId}/members/${memberId}`, { allocation_usd: 20 })).status, 200);
    const key = await gw.api('POST', `/api/teams/${teamId}/keys`, { name: 'sub-key', user_id: memberId, max_budget_usd: 10 });
    assert.equal(key.status, 201, JSON.stringify(key.body));
    await gw.openai(key.body.key).chat.completions.create({ model: CREDITS_MODEL, messages: [{ role: 'user', content: 'hi' }] });
    await gw.runtime.deps.db.kysely.insertInto('team_self_service').values({ team_id: teamId, enabled: 1, max_keys_per_user: 3, max_budget_micro: 5_000_000, require_expiry: 1, max_expiry_days: 30, updated_at: new Date().toISOString() }).execute();

    const b = await signIn(gw, 'member@example.com', PASSWORD, { ip: '192.0.2.1' });
    const me = await b.api('GET', '/api/me');
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.type, 'user');
    assert.equal(me.body.role, 'member');
    assert.equal(me.body.superadmin, false);
    assert.deepEqual(me.body.org, { id: gw.runtime.deps.defaultOrgId, name: 'Default', slug: 'default' });
    assert.equal(me.body.user.id, memberId);
    assert.equal(me.body.user.email, 'member@example.com');
    assert.equal(me.body.user.has_password, true);
    assert.match(me.body.user.last_login_at, /^\d{4}-\d\d-\d\dT/);
    assert.ok(!('password_hash' in me.body.user));
    assert.equal(me.body.session.method, 'password');
    assert.equal(me.body.session.expires_at, b.res.body.expires_at);

    const research = me.body.teams.find((t: { id: number }) => t.id === teamId);
    const platform = me.body.teams.find((t: { id: number }) => t.id === otherTeamId);
    assert.equal(research.role, 'member');
    assert.equal(platform.role, 'owner');
    assert.deepEqual(research.allocation, { budget_usd: 20, period: 'monthly', mode: 'hard', spent_usd: 6, remaining_usd: 14, committed_usd: 10, uncommitted_usd: 10 });
    assert.equal(research.spent_this_month_usd, 6);
    assert.equal(research.key_create_self, true);
    assert.deepEqual(research.self_service, { enabled: true, max_keys_per_user: 3, max_budget_usd: 5, require_expiry: true, max_expiry_days: 30 });
    assert.equal(platform.allocation, null);
    assert.equal(platform.self_service, null);
    assert.equal(platform.spent_this_month_usd, 0);
  });

  test('a viewer may read /api/me too', async () => {
    await userWithPassword(gw, 'viewer@example.com', PASSWORD, { role: 'viewer' });
    const b = await signIn(gw, 'viewer@example.com', PASSWORD, { ip: '192.0.2.2' });
    const me = await b.api('GET', '/api/me');
    assert.equal(me.status, 200);
    assert.equal(me.body.role, 'viewer');
    assert.deepEqual(me.body.teams, []);
  });

  test('a management key describes itself (role, scope, team); the master key says it is the master key', async () => {
    const secret = generateKey(MANAGEMENT_KEY_PREFIX);
    const at = new Date().toISOString();
    await gw.runtime.deps.db.kysely.insertInto('admin_keys').values({ org_id: gw.runtime.deps.defaultOrgId, name: 'ci', description: 'deploys Research', key_prefix: displayPrefix(secret), key_hash: hashSecret(secret), role: 'owner', team_id: teamId, created_at: at }).execute();
    const me = await gw.api('GET', '/api/me', undefined, secret);
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.type, 'management_key');
    assert.equal(me.body.role, 'member');
    assert.equal(me.body.management_key.name, 'ci');
    assert.equal(me.body.management_key.description, 'deploys Research');
    assert.equal(me.body.management_key.scope, 'team');
    assert.equal(me.body.management_key.role, 'owner');
    assert.deepEqual(me.body.teams.map((t: { id: number; role: string }) => [t.id, t.role]), [[teamId, 'owner']]);
    assert.ok(!JSON.stringify(me.body).includes(secret));
    assert.ok(!JSON.stringify(me.body).includes(hashSecret(secret)));

    const master = await gw.api('GET', '/api/me');
    assert.equal(master.body.type, 'master_key');
    assert.equal(master.body.superadmin, true);
    assert.equal(master.body.role, 'admin');

    const password = await gw.api('PUT', '/api/me/password', { current_password: PASSWORD, new_password: 'irrelevant-password' }, secret);
    assert.equal(password.status, 400, 'a key has no password');
  });

  test('a password change ends the other sessions, keeps this one, and is audited without the passwords', async () => {
    const pw = 'changing-password-001';
    const next = 'changed-password-0002';
    const id = await userWithPassword(gw, 'changer@example.com', pw);
    const here = await signIn(gw, 'changer@example.com', pw, { ip: '192.0.2.3' });
    const elsewhere = await signIn(gw, 'changer@example.com', pw, { ip: '192.0.2.4' });

    const noCsrf = await here.api('PUT', '/api/me/password', { current_password: pw, new_password: next }, { csrf: false });
    assert.equal(noCsrf.body.error.code, 'csrf_failed');
    const weak = await here.api('PUT', '/api/me/password', { current_password: pw, new_password: 'short' });
    assert.equal(weak.status, 400);
    assert.equal(weak.body.error.param, 'new_password');

    const done = await here.api('PUT', '/api/me/password', { current_password: pw, new_password: next });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.deepEqual(done.body, { changed: true, other_sessions_ended: 1 });
    assert.equal((await here.api('GET', '/api/me')).status, 200, 'the session it was made from goes on');
    const ended = await elsewhere.api('GET', '/api/me');
    assert.equal(ended.status, 401);
    assert.equal(ended.body.error.code, 'session_expired');
    assert.equal((await login(gw, { email: 'changer@example.com', password: pw }, '192.0.2.5')).status, 401);
    assert.equal((await login(gw, { email: 'changer@example.com', password: next }, '192.0.2.5')).status, 200);

    const events = await gw.runtime.deps.db.kysely.selectFrom('audit_events').selectAll().where('target_type', '=', 'user').where('target_id', '=', String(id)).execute();
    const change = events.find((e) => e.action === 'user.password_change');
    assert.ok(change);
    assert.equal(change.actor_type, 'user');
    assert.equal(change.actor_id, String(id));
    const all = JSON.stringify(events);
    for (const s of [pw, next, here.csrf, here.cookie.split('=')[1]!]) assert.ok(!all.includes(s));
  });

  test('a wrong current password is a 400 on current_password, counted like a failed sign-in', async () => {
    const pw = 'guessing-password-01';
    await userWithPassword(gw, 'guessed@example.com', pw);
    const b = await signIn(gw, 'guessed@example.com', pw, { ip: '192.0.2.6' });
    for (let i = 0; i < 3; i++) {
      const wrong = await b.api('PUT', '/api/me/password', { current_password: `guess-${i}-guess`, new_password: 'new-password-000001' });
      assert.equal(wrong.status, 400);
      assert.equal(wrong.body.error.param, 'current_password');
    }
    const locked = await b.api('PUT', '/api/me/password', { current_password: pw, new_password: 'new-password-000001' });
    assert.equal(locked.status, 429);
    assert.equal(locked.body.error.code, 'account_locked');
    assert.equal(locked.headers.get('retry-after'), String(locked.body.error.retry_after));
    assert.equal((await login(gw, { email: 'guessed@example.com', password: pw }, '192.0.2.7')).body.error.code, 'account_locked', 'the same lock as sign-in');
  });
});
