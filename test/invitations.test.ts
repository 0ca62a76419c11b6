// Invitations (seed 003): who may invite whom into which team, the one-time expiring token, and
// accepting it with a password (which signs the invitee in) — on SQLite and PostgreSQL, with a
// test clock for expiry. Accepting through single sign-on is in test/oidc.test.ts.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, dialectSkip, startGateway, TestClock, type Gateway } from './support/gateway.ts';
import { signedInUser, type TestSession } from './support/sessions.ts';
import { verifyPassword } from '../src/auth/passwords.ts';

const PASSWORD = 'correct horse battery staple';
const PUBLIC_URL = 'https://llm.example.com';

for (const dialect of DIALECTS) describe(`invitations (${dialect})`, { skip: dialectSkip(dialect) }, () => {
  let gw: Gateway;
  let clock: TestClock;
  let teamA: number;
  let teamB: number;
  let owner: TestSession;
  let member: TestSession;

  const accept = (token: string, body: unknown) => gw.api('POST', `/api/invitations/${token}/accept`, body, null);
  const db = () => gw.runtime.deps.db.kysely;

  before(async () => {
    clock = new TestClock(Date.now());
    gw = await startGateway({ dialect, clock, env: { TOLLGATE_PUBLIC_URL: PUBLIC_URL, TOLLGATE_INVITATION_TTL_HOURS: '48' } });
    teamA = (await gw.api('POST', '/api/teams', { name: 'Team A' })).body.id;
    teamB = (await gw.api('POST', '/api/teams', { name: 'Team B' })).body.id;
    owner = await signedInUser(gw, 'owner-a', 'member', { [teamA]: 'owner' });
    member = await signedInUser(gw, 'member-a', 'member', { [teamA]: 'member' });
  });
  after(() => gw?.close());

  test('a team owner invites into their team; accepting sets the password and signs the invitee in', async () => {
    const inv = await owner.api('POST', '/api/invitations', { email: 'Ivy@Example.com', team_id: teamA });
    assert.equal(inv.status, 201, JSON.stringify(inv.body));
    assert.match(inv.body.token, /^tgi_[A-Za-z0-9_-]{43}$/);
    assert.equal(inv.body.url, `${PUBLIC_URL}/ui/invitations/${inv.body.token}`);
    assert.equal(inv.body.email, 'ivy@example.com');
    assert.deepEqual([inv.body.role, inv.body.team_id, inv.body.team_role, inv.body.status], ['member', teamA, 'member', 'pending']);
    assert.equal(Date.parse(inv.body.expires_at) - clock.now(), 48 * 3_600_000);

    const res = await accept(inv.body.token, { password: PASSWORD, name: 'Ivy' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual({ ...res.body.user, id: undefined }, { id: undefined, external_id: 'ivy@example.com', email: 'ivy@example.com', name: 'Ivy', role: 'member' });
    assert.match(res.body.csrf_token, /^tgc_/);
    const setCookie = res.headers.get('set-cookie')!;
    assert.match(setCookie, /^tollgate_session=tgs_[^;]+; Path=\/; HttpOnly; SameSite=Lax/);
    const cookie = setCookie.split(';')[0]!;

    // Signed in: the session reads the team it joined.
    const members = await fetch(`${gw.url}/api/teams/${teamA}/members`, { headers: { cookie } });
    assert.equal(members.status, 200);
    const data = ((await members.json()) as any).data;
    assert.ok(data.some((m: any) => m.user_id === res.body.user.id && m.role === 'member'));
    const stored = await db().selectFrom('users').select('password_hash').where('id', '=', res.body.user.id).executeTakeFirstOrThrow();
    assert.ok(await verifyPassword(stored.password_hash!, PASSWORD), 'the password is set (argon2id)');
    const session = await db().selectFrom('sessions').select('method').where('user_id', '=', res.body.user.id).executeTakeFirstOrThrow();
    assert.equal(session.method, 'invitation');

    // Audited: the owner invited; the invitee (as themself) was created, accepted and signed in.
    const events = await db().selectFrom('audit_events').selectAll().where('action', 'in', ['invitation.create', 'user.create', 'invitation.accept', 'auth.login']).orderBy('id').execute();
    const created = events.find((e) => e.action === 'invitation.create' && e.target_id === String(inv.body.id))!;
    assert.equal(created.actor_id, String(owner.userId));
    const mine = events.filter((e) => e.actor_id === String(res.body.user.id)).map((e) => e.action);
    assert.deepEqual(mine, ['user.create', 'invitation.accept', 'auth.login']);
    const text = JSON.stringify(await db().selectFrom('audit_events').selectAll().execute());
    assert.ok(!text.includes(inv.body.token) && !text.includes(PASSWORD) && !text.includes(res.body.csrf_token));

    // One time: the second acceptance is the same 404 as an unknown token.
    const second = await accept(inv.body.token, { password: PASSWORD });
    assert.equal(second.status, 404);
    assert.equal(second.body.error.code, 'invitation_invalid');
    const unknown = await accept('tgi_' + 'x'.repeat(43), { password: PASSWORD });
    assert.deepEqual(unknown.body, second.body);
  });

  test('a team owner cannot invite into another team, outside a team, or with another org role; a member cannot invite', async () => {
    const other = await owner.api('POST', '/api/invitations', { email: 'x1@example.com', team_id: teamB });
    assert.equal(other.status, 403);
    assert.equal(other.body.error.code, 'forbidden');
    const noTeam = await owner.api('POST', '/api/invitations', { email: 'x2@example.com' });
    assert.equal(noTeam.status, 403);
    for (const role of ['admin', 'viewer']) {
      const res = await owner.api('POST', '/api/invitations', { email: 'x3@example.com', team_id: teamA, role });
      assert.equal(res.status, 403, role);
      assert.equal(res.body.error.param, 'role');
    }
    // Any team role is theirs to give.
    const coOwner = await owner.api('POST', '/api/invitations', { email: 'x4@example.com', team_id: teamA, team_role: 'owner' });
    assert.equal(coOwner.status, 201);
    // A member is refused before the body is even read.
    const byMember = await member.api('POST', '/api/invitations', { nonsense: true });
    assert.equal(byMember.status, 403);
    // An admin invites anyone, anywhere, with any role.
    const admin = await gw.api('POST', '/api/invitations', { email: 'boss@example.com', role: 'admin' });
    assert.equal(admin.status, 201);
    assert.equal((await accept(admin.body.token, { password: PASSWORD })).body.user.role, 'admin');
    const none = await owner.api('POST', '/api/invitations', { team_id: teamA });
    assert.equal(none.status, 400);
    assert.equal(none.body.error.param, 'email');
  });

  test('listing: admins see every invitation, a team owner those into their teams; never a token', async () => {
    await gw.api('POST', '/api/invitations', { email: 'b-only@example.com', team_id: teamB });
    const all = await gw.api('GET', '/api/invitations?limit=100');
    assert.equal(all.status, 200);
    assert.ok(all.body.data.some((i: any) => i.team_id === teamB));
    const mine = await owner.api('GET', '/api/invitations?limit=100');
    assert.equal(mine.status, 200);
    assert.ok(mine.body.data.length > 0);
    assert.ok(mine.body.data.every((i: any) => i.team_id === teamA), JSON.stringify(mine.body));
    const text = JSON.stringify([all.body, mine.body]);
    assert.ok(!/tgi_|token/.test(text), 'no token, no hash');
    assert.equal((await member.api('GET', '/api/invitations')).status, 403);
    // A viewer (finance, auditors) reads them all, as they read the audit events about them.
    const viewer = await signedInUser(gw, 'viewer-1', 'viewer');
    const seen = await viewer.api('GET', '/api/invitations?limit=100');
    assert.equal(seen.status, 200);
    assert.equal(seen.body.data.length, all.body.data.length);
    assert.equal((await viewer.api('POST', '/api/invitations', { email: 'v@example.com' })).status, 403);
  });

  test('a revoked invitation is refused; only who may invite into its team may revoke it', async () => {
    const inv = await gw.api('POST', '/api/invitations', { email: 'revoked@example.com', team_id: teamB });
    const notYours = await owner.api('DELETE', `/api/invitations/${inv.body.id}`);
    assert.equal(notYours.status, 403);
    const mine = await owner.api('POST', '/api/invitations', { email: 'revoked-a@example.com', team_id: teamA });
    const revoked = await owner.api('DELETE', `/api/invitations/${mine.body.id}`);
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.equal(revoked.body.status, 'revoked');
    assert.equal(revoked.body.token, undefined);
    const res = await accept(mine.body.token, { password: PASSWORD });
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 'invitation_invalid');
    const event = await db().selectFrom('audit_events').selectAll().where('action', '=', 'invitation.revoke').where('target_id', '=', String(mine.body.id)).executeTakeFirstOrThrow();
    assert.equal(event.actor_id, String(owner.userId));
    assert.equal((await gw.api('DELETE', '/api/invitations/999999')).status, 404);
  });

  test('a weak password is refused naming `password`, and the invitation stays usable', async () => {
    const inv = await owner.api('POST', '/api/invitations', { email: 'weak@example.com', team_id: teamA });
    const weak = await accept(inv.body.token, { password: 'short' });
    assert.equal(weak.status, 400);
    assert.equal(weak.body.error.code, 'invalid_request');
    assert.equal(weak.body.error.param, 'password');
    const missing = await accept(inv.body.token, {});
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.param, 'password');
    assert.equal((await accept(inv.body.token, { password: PASSWORD })).status, 200);
  });

  test('two acceptances at once: exactly one wins, one user is created', async () => {
    const inv = await owner.api('POST', '/api/invitations', { email: 'race@example.com', team_id: teamA });
    const results = await Promise.all([accept(inv.body.token, { password: PASSWORD }), accept(inv.body.token, { password: PASSWORD + '!' })]);
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 404], JSON.stringify(results.map((r) => r.body)));
    const users = await db().selectFrom('users').select('id').where('email', '=', 'race@example.com').execute();
    assert.equal(users.length, 1);
  });

  test('an invitation never reaches an account its inviter could not have made', async () => {
    // An account with a password: nobody invites it (it is added to teams instead).
    const withPassword = await gw.api('POST', '/api/invitations', { email: 'ivy@example.com', team_id: teamB });
    assert.equal(withPassword.status, 409);
    assert.equal(withPassword.body.error.param, 'email');
    // A password-less account (made by an admin): a team owner may not bind it...
    const pending = await gw.api('POST', '/api/users', { external_id: 'quinn-7', email: 'quinn@example.com', role: 'member' });
    const byOwner = await owner.api('POST', '/api/invitations', { email: 'quinn@example.com', team_id: teamA });
    assert.equal(byOwner.status, 403);
    // ...an admin may: accepting completes that very user, whose role stays.
    const byAdmin = await gw.api('POST', '/api/invitations', { email: 'quinn@example.com', team_id: teamA, role: 'admin' });
    assert.equal(byAdmin.status, 201, JSON.stringify(byAdmin.body));
    assert.equal(byAdmin.body.user_id, pending.body.id);
    const done = await accept(byAdmin.body.token, { password: PASSWORD, name: 'Quinn' });
    assert.equal(done.status, 200);
    assert.deepEqual([done.body.user.id, done.body.user.role, done.body.user.external_id, done.body.user.name], [pending.body.id, 'member', 'quinn-7', 'Quinn']);
    // A team owner's invitation whose email is taken after it was made: refused, nothing changed.
    const early = await owner.api('POST', '/api/invitations', { email: 'rupert@example.com', team_id: teamA });
    const rupert = await gw.api('POST', '/api/users', { external_id: 'rupert', email: 'rupert@example.com', role: 'admin' });
    const takeover = await accept(early.body.token, { password: PASSWORD });
    assert.equal(takeover.status, 409);
    const after = await db().selectFrom('users').select(['password_hash', 'role']).where('id', '=', rupert.body.id).executeTakeFirstOrThrow();
    assert.deepEqual(after, { password_hash: null, role: 'admin' });
    assert.equal((await gw.api('GET', '/api/invitations?limit=100')).body.data.find((i: any) => i.id === early.body.id).status, 'pending');
  });

  test('without single sign-on: an invitation needs an email, and the SSO routes are 404', async () => {
    const res = await gw.api('POST', '/api/invitations', { external_id: 'emp-42' });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.param, 'email');
    const login = await fetch(`${gw.url}/api/auth/oidc/login`, { redirect: 'manual' });
    assert.equal(login.status, 404);
    assert.equal(((await login.json()) as any).error.code, 'not_found');
  });

  // Last: it moves the clock past every session's lifetime.
  test('an expired invitation is refused (404 invitation_invalid)', async () => {
    const inv = await owner.api('POST', '/api/invitations', { email: 'late@example.com', team_id: teamA });
    clock.advance(48 * 3_600_000);
    const res = await accept(inv.body.token, { password: PASSWORD });
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 'invitation_invalid');
    const listed = (await gw.api('GET', '/api/invitations?limit=100')).body.data.find((i: any) => i.id === inv.body.id);
    assert.equal(listed.status, 'expired');
    const user = await db().selectFrom('users').select('id').where('email', '=', 'late@example.com').executeTakeFirst();
    assert.equal(user, undefined);
  });
});
