// Password sign-in on a real server, SQLite and PostgreSQL: the session round trip with CSRF,
// answers that do not tell an unknown email from a wrong password, per-account lock (also under
// parallel guesses) and per-address refusal, deactivation, idle and absolute expiry, an email in
// several organizations, and an audit trail that records every attempt and holds no secret.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, dialectSkip, startGateway, TestClock, type Gateway } from './support/gateway.ts';
import { browser, login, sessionCookieOf, signIn, userWithPassword } from './support/people.ts';

const ROOT_EMAIL = 'root@example.com';
const ROOT_PASSWORD = 'root-password-0123456789';
const TTL_HOURS = 2;
const IDLE_MINUTES = 30;
const MAX_FAILURES = 3;
const LOCK_MINUTES = 15;
const PER_IP = 5;

for (const dialect of DIALECTS) describe(`password sign-in (${dialect})`, { skip: dialectSkip(dialect) }, () => {
  let gw: Gateway;
  const clock = new TestClock();
  /** every password, session token and CSRF token the tests used: none may reach the audit trail */
  const secrets = new Set<string>([ROOT_PASSWORD]);
  const remember = (b: { cookie: string; csrf: string }) => {
    secrets.add(b.cookie.split('=')[1]!);
    secrets.add(b.csrf);
  };

  before(async () => {
    gw = await startGateway({
      dialect,
      clock,
      env: {
        TOLLGATE_TRUST_PROXY: 'true',
        TOLLGATE_ADMIN_EMAIL: ROOT_EMAIL,
        TOLLGATE_ADMIN_PASSWORD: ROOT_PASSWORD,
        TOLLGATE_SESSION_TTL_HOURS: String(TTL_HOURS),
        TOLLGATE_SESSION_IDLE_MINUTES: String(IDLE_MINUTES),
        TOLLGATE_LOGIN_MAX_FAILURES: String(MAX_FAILURES),
        TOLLGATE_LOGIN_LOCK_MINUTES: String(LOCK_MINUTES),
        TOLLGATE_LOGIN_FAILURES_PER_IP_PER_MINUTE: String(PER_IP),
      },
    });
  });
  after(() => gw?.close());

  test('sign in → /api/me → a change without the CSRF token is refused, with it done → logout → 401', async () => {
    const b = await signIn(gw, ROOT_EMAIL, ROOT_PASSWORD, { ip: '192.0.2.1' });
    remember(b);
    assert.deepEqual(Object.keys(b.res.body).sort(), ['csrf_token', 'expires_at', 'user']);
    assert.equal(b.res.body.user.email, ROOT_EMAIL);
    assert.equal(b.res.body.user.role, 'admin');
    assert.equal(b.res.body.expires_at, new Date(clock.now() + TTL_HOURS * 3_600_000).toISOString());
    const setCookie = b.res.headers.get('set-cookie')!;
    assert.match(setCookie, /; HttpOnly/);
    assert.match(setCookie, /; SameSite=Lax/);
    assert.match(setCookie, /; Path=\//);
    assert.match(setCookie, new RegExp(`; Max-Age=${TTL_HOURS * 3600}(;|$)`));
    assert.doesNotMatch(setCookie, /Secure/, 'plain HTTP with TOLLGATE_COOKIE_SECURE=auto: no Secure attribute');

    const me = await b.api('GET', '/api/me');
    assert.equal(me.status, 200);
    assert.equal(me.body.type, 'user');
    assert.equal(me.body.user.email, ROOT_EMAIL);
    assert.equal(me.body.role, 'admin');

    const noCsrf = await b.api('POST', '/api/teams', { name: 'Made by a session' }, { csrf: false });
    assert.equal(noCsrf.status, 403);
    assert.equal(noCsrf.body.error.code, 'csrf_failed');
    const wrongCsrf = await browser(gw, b.cookie, 'tgc_not-the-token').api('POST', '/api/teams', { name: 'Made by a session' });
    assert.equal(wrongCsrf.body.error.code, 'csrf_failed');
    const made = await b.api('POST', '/api/teams', { name: 'Made by a session' });
    assert.equal(made.status, 201, JSON.stringify(made.body));

    assert.equal((await b.api('POST', '/api/auth/logout', undefined, { csrf: false })).body.error.code, 'csrf_failed', 'another site cannot sign a person out');
    const out = await b.api('POST', '/api/auth/logout');
    assert.equal(out.status, 200);
    const cleared = out.headers.getSetCookie();
    assert.match(cleared[0]!, /^tollgate_session=; .*Max-Age=0/);
    assert.match(cleared[1]!, /^tollgate_csrf=; .*Max-Age=0/, 'the readable CSRF cookie of an SSO sign-in goes too');
    const after = await b.api('GET', '/api/me');
    assert.equal(after.status, 401);
    assert.equal(after.body.error.code, 'session_expired');
  });

  test('logout with a management key is a 400: there is no session', async () => {
    const res = await gw.api('POST', '/api/auth/logout');
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'invalid_request');
    assert.match(res.body.error.message, /no session/);
  });

  test('an unknown email, a wrong password, a deactivated account and one without a password get the same answer', async () => {
    const pw = 'correct-horse-battery';
    secrets.add(pw);
    await userWithPassword(gw, 'same@example.com', pw);
    const gone = await userWithPassword(gw, 'gone@example.com', pw);
    await gw.runtime.deps.db.kysely.updateTable('users').set({ status: 'deactivated' }).where('id', '=', gone).execute();
    assert.equal((await gw.api('POST', '/api/users', { external_id: 'nopass', email: 'nopass@example.com' })).status, 201);

    const answers = [
      await login(gw, { email: 'nobody@example.com', password: pw }, '192.0.2.2'),
      await login(gw, { email: 'same@example.com', password: 'wrong-password-123' }, '192.0.2.2'),
      await login(gw, { email: 'gone@example.com', password: pw }, '192.0.2.3'),
      await login(gw, { email: 'nopass@example.com', password: pw }, '192.0.2.3'),
    ];
    for (const a of answers) {
      assert.equal(a.status, 401);
      assert.deepEqual(a.body, answers[0]!.body);
      assert.equal(a.headers.get('set-cookie'), null);
    }
    assert.deepEqual(answers[0]!.body, { error: { message: 'Wrong email or password.', type: 'authentication_error', code: 'invalid_login', param: null } });
    // the email is matched case-insensitively
    const ok = await login(gw, { email: 'Same@Example.COM', password: pw }, '192.0.2.3');
    assert.equal(ok.status, 200);
    remember({ cookie: sessionCookieOf(ok)!, csrf: ok.body.csrf_token });
  });

  test('bad bodies name the field', async () => {
    const a = await login(gw, { email: 'not-an-email', password: 'x' }, '192.0.2.4');
    assert.equal(a.status, 400);
    assert.equal(a.body.error.param, 'email');
    const b = await login(gw, { email: 'a@example.com' }, '192.0.2.4');
    assert.equal(b.body.error.param, 'password');
    const c = await login(gw, { email: 'a@example.com', password: 'x', remember_me: true }, '192.0.2.4');
    assert.equal(c.body.error.param, 'remember_me');
  });

  test(`an account locks after ${MAX_FAILURES} failures, for ${LOCK_MINUTES} minutes; a success resets the count`, async () => {
    const pw = 'lock-me-password-1';
    secrets.add(pw);
    const id = await userWithPassword(gw, 'locked@example.com', pw);
    const ip = (n: number) => `198.51.100.${n}`; // a new address each time: only the account counts here
    // a success in between resets the count
    for (let i = 0; i < MAX_FAILURES - 1; i++) assert.equal((await login(gw, { email: 'locked@example.com', password: 'wrong-wrong-wrong' }, ip(1))).status, 401);
    const b = await signIn(gw, 'locked@example.com', pw, { ip: ip(2) });
    remember(b);
    for (let i = 0; i < MAX_FAILURES; i++) assert.equal((await login(gw, { email: 'locked@example.com', password: 'wrong-wrong-wrong' }, ip(3 + i))).status, 401);
    // locked: even the right password is refused, on any address, saying for how long
    const locked = await login(gw, { email: 'locked@example.com', password: pw }, ip(10));
    assert.equal(locked.status, 429);
    assert.equal(locked.body.error.code, 'account_locked');
    assert.equal(locked.body.error.retry_after, LOCK_MINUTES * 60);
    assert.equal(locked.headers.get('retry-after'), String(LOCK_MINUTES * 60));
    const row = await gw.runtime.deps.db.kysely.selectFrom('users').select(['locked_until']).where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.locked_until, new Date(clock.now() + LOCK_MINUTES * 60_000).toISOString());
    // the session made before the lock still works: the lock stops guessing, not the person
    assert.equal((await b.api('GET', '/api/me')).status, 200);

    clock.advance(LOCK_MINUTES * 60_000 - 1000);
    assert.equal((await login(gw, { email: 'locked@example.com', password: pw }, ip(11))).status, 429);
    clock.advance(1000);
    const again = await signIn(gw, 'locked@example.com', pw, { ip: ip(12) });
    remember(again);
    const after = await gw.runtime.deps.db.kysely.selectFrom('users').select(['failed_logins', 'locked_until', 'last_login_at']).where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(after.failed_logins, 0);
    assert.equal(after.locked_until, null);
    assert.equal(after.last_login_at, new Date(clock.now()).toISOString());
  });

  test('guesses sent in parallel get no more tries than the limit', async () => {
    const pw = 'parallel-password-1';
    secrets.add(pw);
    await userWithPassword(gw, 'parallel@example.com', pw);
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => login(gw, { email: 'parallel@example.com', password: `guess-number-${i}` }, `198.51.100.${100 + i}`)));
    const statuses = answers.map((a) => a.status).sort();
    assert.equal(statuses.filter((s) => s === 401).length, MAX_FAILURES, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 10 - MAX_FAILURES);
    const wrong = await gw.runtime.deps.db.kysely.selectFrom('audit_events').select('after').where('action', '=', 'auth.login_failed').where('target_id', '=', String((await gw.runtime.deps.db.kysely.selectFrom('users').select('id').where('email', '=', 'parallel@example.com').executeTakeFirstOrThrow()).id)).execute();
    assert.equal(wrong.filter((r) => JSON.parse(r.after!).reason === 'wrong_password').length, MAX_FAILURES);
    assert.equal(wrong.filter((r) => JSON.parse(r.after!).reason === 'locked').length, 10 - MAX_FAILURES);
  });

  test(`an address with ${PER_IP} failures in a minute is refused, right password or not, until the minute ends`, async () => {
    const ip = '203.0.113.7';
    for (let i = 0; i < PER_IP; i++) assert.equal((await login(gw, { email: `stranger${i}@example.com`, password: 'whatever-it-is' }, ip)).status, 401);
    const refused = await login(gw, { email: ROOT_EMAIL, password: ROOT_PASSWORD }, ip);
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error.code, 'too_many_auth_failures');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    // another address is not affected, nor is the account
    remember(await signIn(gw, ROOT_EMAIL, ROOT_PASSWORD, { ip: '203.0.113.8' }));
    clock.advance(61_000);
    remember(await signIn(gw, ROOT_EMAIL, ROOT_PASSWORD, { ip }));
  });

  test('a deactivated user: the open session ends (401 session_expired) and sign-in is refused', async () => {
    const pw = 'leaving-soon-password';
    secrets.add(pw);
    const id = await userWithPassword(gw, 'leaver@example.com', pw);
    const b = await signIn(gw, 'leaver@example.com', pw, { ip: '192.0.2.20' });
    remember(b);
    assert.equal((await b.api('GET', '/api/me')).status, 200);
    await gw.runtime.deps.db.kysely.updateTable('users').set({ status: 'deactivated' }).where('id', '=', id).execute();
    const me = await b.api('GET', '/api/me');
    assert.equal(me.status, 401);
    assert.equal(me.body.error.code, 'session_expired');
    const again = await login(gw, { email: 'leaver@example.com', password: pw }, '192.0.2.20');
    assert.equal(again.status, 401);
    assert.equal(again.body.error.code, 'invalid_login');
  });

  test(`sessions end after ${IDLE_MINUTES} idle minutes, and ${TTL_HOURS} hours after sign-in however used`, async () => {
    const idle = await signIn(gw, ROOT_EMAIL, ROOT_PASSWORD, { ip: '192.0.2.30' });
    remember(idle);
    clock.advance((IDLE_MINUTES - 1) * 60_000);
    assert.equal((await idle.api('GET', '/api/me')).status, 200, 'used within the idle time');
    clock.advance((IDLE_MINUTES - 1) * 60_000);
    assert.equal((await idle.api('GET', '/api/me')).status, 200, 'each use restarts the idle time');
    clock.advance(IDLE_MINUTES * 60_000);
    const idled = await idle.api('GET', '/api/me');
    assert.equal(idled.status, 401);
    assert.equal(idled.body.error.code, 'session_expired');

    const busy = await signIn(gw, ROOT_EMAIL, ROOT_PASSWORD, { ip: '192.0.2.30' });
    remember(busy);
    const step = 20 * 60_000;
    for (let t = step; t < TTL_HOURS * 3_600_000; t += step) {
      clock.advance(step);
      assert.equal((await busy.api('GET', '/api/me')).status, 200, `at ${t / 60_000} minutes`);
    }
    clock.advance(step);
    const expired = await busy.api('GET', '/api/me');
    assert.equal(expired.status, 401);
    assert.equal(expired.body.error.code, 'session_expired');
  });

  test('an email in several organizations: the password decides, or `org` does', async () => {
    const other = await gw.api('POST', '/api/orgs', { name: 'Second Org', slug: 'second' });
    assert.equal(other.status, 201, JSON.stringify(other.body));
    const pw1 = 'first-org-password';
    const pw2 = 'second-org-password';
    secrets.add(pw1).add(pw2);
    const u1 = await userWithPassword(gw, 'twice@example.com', pw1);
    const u2 = await userWithPassword(gw, 'twice@example.com', pw2, { adminKey: other.body.admin_key });
    const first = await signIn(gw, 'twice@example.com', pw1, { ip: '192.0.2.40' });
    remember(first);
    assert.equal(first.res.body.user.id, u1);
    const second = await signIn(gw, 'twice@example.com', pw2, { ip: '192.0.2.40' });
    remember(second);
    assert.equal(second.res.body.user.id, u2);
    assert.equal((await second.api('GET', '/api/me')).body.org.slug, 'second');

    // the same password in both: the caller must say which
    await gw.runtime.deps.db.kysely.updateTable('users').set({ password_hash: (await gw.runtime.deps.db.kysely.selectFrom('users').select('password_hash').where('id', '=', u1).executeTakeFirstOrThrow()).password_hash }).where('id', '=', u2).execute();
    const ambiguous = await login(gw, { email: 'twice@example.com', password: pw1 }, '192.0.2.41');
    assert.equal(ambiguous.status, 400);
    assert.equal(ambiguous.body.error.param, 'org');
    assert.deepEqual(ambiguous.body.error.organizations.sort(), ['default', 'second']);
    const chosen = await signIn(gw, 'twice@example.com', pw1, { ip: '192.0.2.41', org: 'second' });
    remember(chosen);
    assert.equal(chosen.res.body.user.id, u2);
    // none of this counted as a failure
    const rows = await gw.runtime.deps.db.kysely.selectFrom('users').select('failed_logins').where('id', 'in', [u1, u2]).execute();
    assert.deepEqual(rows.map((r) => r.failed_logins), [0, 0]);
  });

  test('the audit trail records each attempt with its reason, and holds no password or token', async () => {
    const db = gw.runtime.deps.db.kysely;
    const events = await db.selectFrom('audit_events').selectAll().where('action', 'in', ['auth.login', 'auth.login_failed', 'auth.logout']).orderBy('id').execute();
    const reasons = new Set(events.filter((e) => e.action === 'auth.login_failed').map((e) => JSON.parse(e.after!).reason));
    for (const r of ['unknown_email', 'wrong_password', 'locked', 'deactivated', 'no_password']) assert.ok(reasons.has(r), `a login_failed event with reason ${r}`);
    const unknown = events.find((e) => e.action === 'auth.login_failed' && JSON.parse(e.after!).reason === 'unknown_email')!;
    assert.equal(unknown.actor_type, 'system');
    assert.equal(unknown.actor_id, 'anonymous');
    assert.equal(unknown.org_id, gw.runtime.deps.defaultOrgId);
    assert.equal(JSON.parse(unknown.after!).email, 'nobody@example.com');
    const success = events.find((e) => e.action === 'auth.login')!;
    assert.equal(success.actor_type, 'user');
    assert.equal(success.source_ip, '192.0.2.1');
    assert.ok(events.some((e) => e.action === 'auth.logout'));

    const everything = JSON.stringify(await db.selectFrom('audit_events').selectAll().execute());
    assert.ok(secrets.size > 10);
    for (const s of secrets) assert.ok(!everything.includes(s), `a secret (${s.slice(0, 4)}…) is in the audit trail`);
    // nor does the sessions table hold a token: only hashes
    const sessions = JSON.stringify(await db.selectFrom('sessions').selectAll().execute());
    for (const s of secrets) assert.ok(!sessions.includes(s));
  });
});
