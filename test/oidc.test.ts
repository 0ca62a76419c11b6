// Single sign-on end to end against a REAL OpenID provider (oidc-provider, test/support/oidc-provider.ts):
// Tollgate's redirect, the provider's sign-in and consent pages, the callback, the code exchange
// with PKCE, the ID token's validation, and the session that results — on SQLite and PostgreSQL.
// Two gateways share the provider: one creates unknown users just in time, one does not.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, dialectSkip, startGateway, type Gateway } from './support/gateway.ts';
import { freePort, startOidcProvider, type TestOidcProvider } from './support/oidc-provider.ts';
import { identityFromClaims } from '../src/auth/oidc-identity.ts';
import { loadConfig } from '../src/config.ts';

const CALLBACK = '/api/auth/oidc/callback';

const ACCOUNTS = [
  { sub: 'carol', email: 'carol@example.com', email_verified: true, name: 'Carol' },
  { sub: 'dave', email: 'dave@example.com', email_verified: true, name: 'Dave' },
  { sub: 'erin' },
  { sub: 'frank-sub', email: 'Frank@Example.com', email_verified: true, name: 'Frank' },
  { sub: 'mallory', email: 'grace@example.com', email_verified: false, name: 'Mallory' },
  { sub: 'oscar', email: 'oscar@example.com', email_verified: true },
  { sub: 'heidi', email: 'heidi@example.com', email_verified: true, name: 'Heidi' },
  { sub: 'judy', email: 'judy@example.com', email_verified: true },
  { sub: 'peggy', email: 'peggy@example.com', email_verified: true },
];

interface Sso {
  /** where Tollgate sent the browser (the provider's authorization endpoint) */
  authorizationUrl: URL;
  /** where the provider sent it back */
  callbackUrl: string;
  /** Tollgate's answer to the callback */
  res: Response;
  body: any;
}

function cookiesOf(res: Response): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of res.headers.getSetCookie()) out.set(line.slice(0, line.indexOf('=')), line);
  return out;
}

function cookieValue(setCookie: string): string {
  return setCookie.slice(setCookie.indexOf('=') + 1).split(';')[0]!;
}

async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ res: Response; body: any }> {
  const res = await fetch(url, { redirect: 'manual', headers });
  const text = await res.text();
  return { res, body: text ? JSON.parse(text) : undefined };
}

test('identity from claims: the configured claim, a verified email only, and an email identifier only when verified', () => {
  assert.deepEqual(identityFromClaims({ sub: 'u1', email: 'A@Example.com', email_verified: true, name: ' Ann ' }, 'sub'), { externalId: 'u1', email: 'a@example.com', name: 'Ann', subject: 'u1' });
  assert.equal((identityFromClaims({ sub: 'u1', email: 'a@example.com', email_verified: false }, 'sub') as { email: unknown }).email, null);
  assert.equal((identityFromClaims({ sub: 'u1', employee_id: 4711 }, 'employee_id') as { externalId: unknown }).externalId, '4711');
  assert.match(identityFromClaims({ sub: 'u1' }, 'employee_id') as string, /employee_id/);
  assert.match(identityFromClaims({ sub: 'u1', email: 'a@example.com' }, 'email') as string, /not verified/);
  assert.equal((identityFromClaims({ sub: 'u1', email: 'a@example.com', email_verified: 'true' }, 'email') as { externalId: unknown }).externalId, 'a@example.com');
});

test('an http issuer is accepted only on loopback (openid-client needs https otherwise)', () => {
  const env = (issuer: string) => ({ TOLLGATE_OIDC_ISSUER: issuer, TOLLGATE_OIDC_CLIENT_ID: 'c', TOLLGATE_OIDC_REDIRECT_URI: 'https://llm.example.com/api/auth/oidc/callback' });
  assert.throws(() => loadConfig(env('http://idp.example.com')), /TOLLGATE_OIDC_ISSUER must be an https URL/);
  assert.throws(() => loadConfig(env('http://127.0.0.1.example.com/')), /https/);
  for (const ok of ['https://idp.example.com', 'http://127.0.0.1:8080', 'http://localhost/realms/x', 'http://[::1]:9000']) {
    assert.equal(loadConfig(env(ok)).people.oidc?.issuer, ok);
  }
});

for (const dialect of DIALECTS) describe(`single sign-on through a real OpenID provider (${dialect})`, { skip: dialectSkip(dialect) }, () => {
  let op: TestOidcProvider;
  let jit: Gateway;
  let strict: Gateway;

  /** Plays a browser: Tollgate's login redirect, the provider's pages as `login`, then the callback. */
  async function sso(gw: Gateway, login: string, opts: { json?: boolean; returnTo?: string; invitation?: string } = {}): Promise<Sso> {
    const q = new URLSearchParams();
    if (opts.returnTo) q.set('return_to', opts.returnTo);
    if (opts.invitation) q.set('invitation', opts.invitation);
    const start = await fetch(`${gw.url}/api/auth/oidc/login${q.size ? '?' + q : ''}`, { redirect: 'manual' });
    assert.equal(start.status, 302, await start.clone().text());
    const authorizationUrl = new URL(start.headers.get('location')!);
    const callbackUrl = await op.signIn(authorizationUrl.href, login);
    const { res, body } = await getJson(callbackUrl, opts.json === false ? {} : { accept: 'application/json' });
    return { authorizationUrl, callbackUrl, res, body };
  }

  async function auditRows(gw: Gateway, action: string) {
    return gw.runtime.deps.db.kysely.selectFrom('audit_events').selectAll().where('action', '=', action).orderBy('id').execute();
  }

  before(async () => {
    const [jitPort, strictPort] = [await freePort(), await freePort()];
    const redirect = (port: number) => `http://127.0.0.1:${port}${CALLBACK}`;
    op = await startOidcProvider({ redirectUris: [redirect(jitPort), redirect(strictPort)], accounts: ACCOUNTS });
    const env = (port: number, jitOn: boolean) => ({
      TOLLGATE_OIDC_ISSUER: op.issuer,
      TOLLGATE_OIDC_CLIENT_ID: op.clientId,
      TOLLGATE_OIDC_CLIENT_SECRET: op.clientSecret,
      TOLLGATE_OIDC_REDIRECT_URI: redirect(port),
      TOLLGATE_OIDC_JIT: String(jitOn),
      TOLLGATE_OIDC_DEFAULT_ROLE: 'viewer',
    });
    jit = await startGateway({ dialect, port: jitPort, env: env(jitPort, true) });
    strict = await startGateway({ dialect, port: strictPort, env: env(strictPort, false) });
  });
  after(async () => {
    await jit?.close();
    await strict?.close();
    await op?.close();
  });

  test('JIT on: an unknown identity becomes a user with the default role, signed in; the session works', async () => {
    const { res, body } = await sso(jit, 'carol');
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual({ ...body.user, id: undefined }, { id: undefined, external_id: 'carol', email: 'carol@example.com', name: 'Carol', role: 'viewer' });
    assert.match(body.csrf_token, /^tgc_/);
    const session = cookiesOf(res).get('tollgate_session')!;
    assert.match(session, /HttpOnly/);
    assert.match(session, /SameSite=Lax/);
    const cookie = `tollgate_session=${cookieValue(session)}`;
    const teams = await getJson(`${jit.url}/api/teams`, { cookie });
    assert.equal(teams.res.status, 200, JSON.stringify(teams.body));
    const row = await jit.runtime.deps.db.kysely.selectFrom('sessions').select(['method', 'user_id']).where('user_id', '=', body.user.id).executeTakeFirstOrThrow();
    assert.equal(row.method, 'oidc');
    const created = (await auditRows(jit, 'user.create')).filter((e) => e.target_id === String(body.user.id));
    assert.equal(created.length, 1);
    assert.equal(JSON.parse(created[0]!.after!).via, 'oidc_jit');
    const login = (await auditRows(jit, 'auth.login')).at(-1)!;
    assert.equal(login.actor_type, 'user');
    assert.equal(login.actor_id, String(body.user.id));
    assert.equal(JSON.parse(login.after!).method, 'oidc');
    // The second sign-in finds the same user.
    const again = await sso(jit, 'carol');
    assert.equal(again.body.user.id, body.user.id);
  });

  test('a browser is redirected to return_to with the session cookie and a readable CSRF cookie that state changes accept', async () => {
    const admin = await strict.api('POST', '/api/users', { external_id: 'dave', email: 'dave@example.com', role: 'admin' });
    assert.equal(admin.status, 201);
    const { res } = await sso(strict, 'dave', { json: false, returnTo: '/ui/keys?tab=mine' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/ui/keys?tab=mine');
    const cookies = cookiesOf(res);
    const session = cookies.get('tollgate_session')!;
    const csrf = cookies.get('tollgate_csrf')!;
    assert.match(session, /HttpOnly/);
    assert.doesNotMatch(csrf, /HttpOnly/, 'the dashboard reads the CSRF token from its cookie');
    assert.match(csrf, /SameSite=Lax/);
    const headers = { cookie: `tollgate_session=${cookieValue(session)}`, 'content-type': 'application/json' };
    const refused = await fetch(`${strict.url}/api/teams`, { method: 'POST', headers, body: JSON.stringify({ name: 'no csrf' }) });
    assert.equal(refused.status, 403);
    assert.equal(((await refused.json()) as any).error.code, 'csrf_failed');
    const ok = await fetch(`${strict.url}/api/teams`, { method: 'POST', headers: { ...headers, 'x-csrf-token': cookieValue(csrf) }, body: JSON.stringify({ name: 'made by SSO admin' }) });
    assert.equal(ok.status, 201);
    // Without return_to: the dashboard.
    const plain = await sso(strict, 'dave', { json: false });
    assert.equal(plain.res.headers.get('location'), '/ui/');
  });

  test('JIT off: an unknown identity is refused (403 sso_no_account), audited, and no user is created', async () => {
    const { res, body } = await sso(strict, 'peggy');
    assert.equal(res.status, 403);
    assert.equal(body.error.code, 'sso_no_account');
    assert.match(body.error.message, /invitation/);
    assert.equal(cookiesOf(res).size, 0, 'no session');
    const user = await strict.runtime.deps.db.kysely.selectFrom('users').select('id').where('external_id', '=', 'peggy').executeTakeFirst();
    assert.equal(user, undefined);
    const failed = (await auditRows(strict, 'auth.login_failed')).at(-1)!;
    assert.deepEqual(JSON.parse(failed.after!), { method: 'oidc', reason: 'no_account', external_id: 'peggy', email: 'peggy@example.com' });
    assert.equal(failed.actor_type, 'system');
  });

  test('an existing user is matched by external_id (the sub claim)', async () => {
    const erin = await strict.api('POST', '/api/users', { external_id: 'erin', name: 'Erin' });
    const { res, body } = await sso(strict, 'erin');
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.user.id, erin.body.id);
    assert.equal(body.user.role, 'member');
  });

  test('an existing user is matched by a verified email (case-insensitive), never by an unverified one', async () => {
    const frank = await strict.api('POST', '/api/users', { external_id: 'frank-employee-7', email: 'frank@example.com' });
    const matched = await sso(strict, 'frank-sub');
    assert.equal(matched.res.status, 200, JSON.stringify(matched.body));
    assert.equal(matched.body.user.id, frank.body.id);
    // mallory's provider account claims grace's address without having verified it.
    await strict.api('POST', '/api/users', { external_id: 'grace-employee-9', email: 'grace@example.com' });
    const refused = await sso(strict, 'mallory');
    assert.equal(refused.res.status, 403);
    assert.equal(refused.body.error.code, 'sso_no_account');
  });

  test('a deactivated user is refused, and the refusal is audited with its reason', async () => {
    const oscar = await strict.api('POST', '/api/users', { external_id: 'oscar', email: 'oscar@example.com' });
    await strict.runtime.deps.db.kysely.updateTable('users').set({ status: 'deactivated' }).where('id', '=', oscar.body.id).execute();
    const { res, body } = await sso(strict, 'oscar');
    assert.equal(res.status, 403);
    assert.equal(body.error.code, 'forbidden');
    assert.match(body.error.message, /deactivated/);
    assert.equal(cookiesOf(res).size, 0);
    const failed = (await auditRows(strict, 'auth.login_failed')).at(-1)!;
    assert.equal(JSON.parse(failed.after!).reason, 'deactivated');
    assert.equal(failed.actor_id, String(oscar.body.id));
  });

  test('the state is single use: replaying a callback is refused', async () => {
    const first = await sso(jit, 'carol');
    assert.equal(first.res.status, 200);
    const replay = await getJson(first.callbackUrl, { accept: 'application/json' });
    assert.equal(replay.res.status, 400);
    assert.equal(replay.body.error.code, 'invalid_request');
    assert.equal(replay.body.error.param, 'query.state');
    assert.equal(cookiesOf(replay.res).size, 0);
  });

  test('a tampered state is refused (and does not use up the real one)', async () => {
    const start = await fetch(`${jit.url}/api/auth/oidc/login`, { redirect: 'manual' });
    const callbackUrl = new URL(await op.signIn(start.headers.get('location')!, 'carol'));
    const state = callbackUrl.searchParams.get('state')!;
    const tampered = new URL(callbackUrl);
    tampered.searchParams.set('state', (state[0] === 'A' ? 'B' : 'A') + state.slice(1));
    const refused = await getJson(tampered.href, { accept: 'application/json' });
    assert.equal(refused.res.status, 400);
    assert.equal(refused.body.error.param, 'query.state');
    const missing = new URL(callbackUrl);
    missing.searchParams.delete('state');
    assert.equal((await getJson(missing.href, { accept: 'application/json' })).res.status, 400);
    const genuine = await getJson(callbackUrl.href, { accept: 'application/json' });
    assert.equal(genuine.res.status, 200);
  });

  test('PKCE: the authorization URL carries an S256 challenge, a state and a nonce; the provider refuses the code without the verifier', async () => {
    const start = await fetch(`${jit.url}/api/auth/oidc/login`, { redirect: 'manual' });
    const url = new URL(start.headers.get('location')!);
    assert.equal(url.origin + url.pathname, `${op.issuer}/auth`);
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.match(url.searchParams.get('code_challenge')!, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(url.searchParams.get('state') && url.searchParams.get('nonce'));
    assert.equal(url.searchParams.get('response_type'), 'code');
    // Whoever steals the code (it travels in a URL) cannot redeem it without Tollgate's verifier.
    const callbackUrl = new URL(await op.signIn(url.href, 'carol'));
    const stolen = await fetch(op.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic ' + Buffer.from(`${op.clientId}:${op.clientSecret}`).toString('base64') },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: callbackUrl.searchParams.get('code')!, redirect_uri: `${jit.url}${CALLBACK}` }),
    });
    assert.equal(stolen.status, 400);
    assert.equal(((await stolen.json()) as any).error, 'invalid_grant');
  });

  test('an authorization request without PKCE is refused by the provider, and Tollgate reports its error', async () => {
    const start = await fetch(`${jit.url}/api/auth/oidc/login`, { redirect: 'manual' });
    const url = new URL(start.headers.get('location')!);
    url.searchParams.delete('code_challenge');
    url.searchParams.delete('code_challenge_method');
    const back = await fetch(url, { redirect: 'manual' });
    const callback = back.headers.get('location')!;
    assert.ok(callback.startsWith(`${jit.url}${CALLBACK}?`), callback);
    assert.equal(new URL(callback).searchParams.get('error'), 'invalid_request');
    const { res, body } = await getJson(callback, { accept: 'application/json' });
    assert.equal(res.status, 401);
    assert.equal(body.error.code, 'sso_failed');
    const failed = (await auditRows(jit, 'auth.login_failed')).at(-1)!;
    assert.equal(JSON.parse(failed.after!).reason, 'provider_error:invalid_request');
  });

  test('return_to must be a path on this deployment', async () => {
    for (const bad of ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'ui/keys', '/ui/\\x', '/ui/ x']) {
      const res = await fetch(`${jit.url}/api/auth/oidc/login?return_to=${encodeURIComponent(bad)}`, { redirect: 'manual' });
      assert.equal(res.status, 400, bad);
      assert.equal(((await res.json()) as any).error.param, 'query.return_to', bad);
    }
  });

  test('an invitation accepted through SSO: bound to its email, creates the user in its team with its role, once', async () => {
    const team = (await strict.api('POST', '/api/teams', { name: 'SSO team' })).body;
    const inv = await strict.api('POST', '/api/invitations', { email: 'Heidi@Example.com', team_id: team.id, team_role: 'owner' });
    assert.equal(inv.status, 201, JSON.stringify(inv.body));
    // Another identity cannot use it (JIT is off here: only the invitation could let anyone in).
    const wrong = await sso(strict, 'judy', { invitation: inv.body.token });
    assert.equal(wrong.res.status, 403);
    assert.match(wrong.body.error.message, /heidi@example.com/);
    assert.equal(JSON.parse((await auditRows(strict, 'auth.login_failed')).at(-1)!.after!).reason, 'invitation_email_mismatch');
    const { res, body } = await sso(strict, 'heidi', { invitation: inv.body.token });
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual({ ...body.user, id: undefined }, { id: undefined, external_id: 'heidi', email: 'heidi@example.com', name: 'Heidi', role: 'member' });
    const cookie = `tollgate_session=${cookieValue(cookiesOf(res).get('tollgate_session')!)}`;
    const members = await getJson(`${strict.url}/api/teams/${team.id}/members`, { cookie });
    assert.equal(members.res.status, 200, JSON.stringify(members.body));
    assert.ok(members.body.data.some((m: any) => m.user_id === body.user.id && m.role === 'owner'), JSON.stringify(members.body));
    const listed = (await strict.api('GET', '/api/invitations')).body.data.find((i: any) => i.id === inv.body.id);
    assert.equal(listed.status, 'accepted');
    assert.equal(listed.accepted_user_id, body.user.id);
    const accepted = (await auditRows(strict, 'invitation.accept')).at(-1)!;
    assert.equal(accepted.actor_id, String(body.user.id));
    // Used: neither SSO nor a password can use it again.
    const again = await fetch(`${strict.url}/api/auth/oidc/login?invitation=${inv.body.token}`, { redirect: 'manual' });
    assert.equal(again.status, 404);
    assert.equal(((await again.json()) as any).error.code, 'invitation_invalid');
    const byPassword = await strict.api('POST', `/api/invitations/${inv.body.token}/accept`, { password: 'a long enough password' }, null);
    assert.equal(byPassword.status, 404);
  });

  test('no session token, CSRF token, PKCE verifier or client secret is ever in the audit trail', async () => {
    const { body, res } = await sso(jit, 'carol');
    const secrets = [cookieValue(cookiesOf(res).get('tollgate_session')!), body.csrf_token, op.clientSecret];
    const logins = await jit.runtime.deps.db.kysely.selectFrom('oidc_logins').select('code_verifier').execute();
    secrets.push(...logins.map((l) => l.code_verifier));
    for (const gw of [jit, strict]) {
      const audit = JSON.stringify(await gw.runtime.deps.db.kysely.selectFrom('audit_events').selectAll().execute());
      for (const s of secrets) assert.ok(!audit.includes(s));
    }
  });

  // Last: it leaves this address refused on `strict` for the rest of the minute.
  test('failed callbacks are throttled per address, like failed passwords (429 after 20 a minute)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) statuses.push((await getJson(`${strict.url}/api/auth/oidc/callback?state=forged-${i}&code=x`, { accept: 'application/json' })).res.status);
    // Earlier refused sign-ins on `strict` (no account, deactivated) count too.
    const first = statuses.indexOf(429);
    assert.ok(first > 0 && first <= 20, `400s until the limit, then 429: ${statuses.join(',')}`);
    assert.ok(statuses.slice(0, first).every((s) => s === 400) && statuses.slice(first).every((s) => s === 429), statuses.join(','));
    const refused = await getJson(`${strict.url}/api/auth/oidc/callback?state=forged-last&code=x`, { accept: 'application/json' });
    assert.equal(refused.res.status, 429);
    assert.equal(refused.body.error.code, 'too_many_auth_failures');
    assert.equal((await getJson(`${jit.url}/api/auth/oidc/callback?state=forged&code=x`, { accept: 'application/json' })).res.status, 400, 'each replica counts its own');
  });
});
