// The audit trail is complete and readable: every admin change made through the API is an event
// with the right action, actor, target, team, source IP and user agent, with no secret in it;
// GET /api/audit filters and pages; admins and viewers read the organization's trail, team owners
// their teams' events only, members nothing.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Kysely, Selectable } from 'kysely';
import { DIALECTS, dialectSkip, startGateway, ADMIN_KEY, TestClock, type Gateway } from './support/gateway.ts';
import { signedInUser } from './support/sessions.ts';
import { verifyAudit } from '../src/audit/verify.ts';
import { redact } from '../src/audit/redact.ts';
import { eventNames } from '../src/audit/audit-names.ts';
import type { AuditEventsTable, Database } from '../src/db/types.ts';

type Reply = { status: number; body: any; headers: Headers };
type Event = Selectable<AuditEventsTable>;

/** A caller of /api: a key (X-Admin-Key) or a signed-in session (cookie + CSRF token). */
type Credential = { key: string } | { cookie: string; csrf: string } | null;

const PASSWORD = 'correct horse battery staple 42';
const NEW_PASSWORD = 'another long passphrase 4711';

for (const dialect of DIALECTS) describe(`audit trail (${dialect})`, { skip: dialectSkip(dialect) }, () => {
  let gw: Gateway;
  let db: Kysely<Database>;
  const clock = new TestClock(Date.parse('2026-05-04T09:00:00Z'));
  /** every secret seen in a response or sent in a request: none may appear in any event */
  const secrets = new Set<string>();

  async function call(method: string, path: string, body: unknown, as: Credential, ua: string): Promise<Reply> {
    const headers: Record<string, string> = { 'user-agent': ua };
    if (as && 'key' in as) headers['x-admin-key'] = as.key;
    if (as && 'cookie' in as) {
      headers.cookie = as.cookie;
      if (method !== 'GET') headers['x-csrf-token'] = as.csrf;
    }
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(gw.url + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  }

  before(async () => {
    // A key webhook lets keys have a rotation schedule; nothing is due during the test, so it is never called.
    gw = await startGateway({ dialect, clock, env: { TOLLGATE_ROTATION_CHECK_SECONDS: '0', TOLLGATE_KEY_WEBHOOK_URL: 'http://127.0.0.1:9/hook', TOLLGATE_KEY_WEBHOOK_SECRET: 'audit-test-webhook-secret' } });
    db = gw.runtime.deps.db.kysely;
  });
  after(() => gw?.close());

  test('every admin change through the API is an event: action, actor, target, team, IP, user agent', async () => {
    const master = { key: ADMIN_KEY };
    let n = 0;
    /**
     * Sends one request with a user agent of its own, then finds the event(s) it wrote by that
     * user agent and checks the one with `expect.action`.
     */
    const step = async (method: string, path: string, body: unknown, expect: { action: string; targetType: string; targetId?: string | number; teamId?: number | null; actor?: string | RegExp; status?: number }, as: Credential = master) => {
      const ua = `audit-coverage/1.0 (step ${++n})`;
      clock.advance(1000);
      const res = await call(method, path, body, as, ua);
      assert.equal(res.status, expect.status ?? (method === 'POST' ? 201 : 200), `${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
      const events = await db.selectFrom('audit_events').selectAll().where('user_agent', '=', ua).orderBy('id').execute();
      const e = events.find((x) => x.action === expect.action);
      assert.ok(e, `${method} ${path}: no ${expect.action} event (got ${events.map((x) => x.action).join(', ') || 'none'})`);
      if (expect.actor instanceof RegExp) assert.match(`${e.actor_type}:${e.actor_id}`, expect.actor, `${expect.action}: actor`);
      else assert.equal(`${e.actor_type}:${e.actor_id}`, expect.actor ?? 'admin_key:master', `${expect.action}: actor`);
      assert.equal(e.target_type, expect.targetType, `${expect.action}: target type`);
      if (expect.targetId !== undefined) assert.equal(e.target_id, String(expect.targetId), `${expect.action}: target id`);
      if (expect.teamId !== undefined) assert.equal(e.team_id, expect.teamId, `${expect.action}: team`);
      assert.equal(e.source_ip, '127.0.0.1', `${expect.action}: source IP`);
      assert.equal(e.created_at, new Date(clock.now()).toISOString(), `${expect.action}: time`);
      assert.ok(e.hash && e.prev_hash, `${expect.action}: chained`);
      return res.body;
    };
    const keep = (...values: Array<string | undefined>) => values.forEach((v) => v && secrets.add(v));

    // Organization-wide configuration.
    await step('PUT', '/api/orgs/current/access', { blocked_models: ['gpt-3.5-turbo'] }, { action: 'org.access.set', targetType: 'org', targetId: 1 });
    await step('PATCH', '/api/orgs/current/limits', { rpm: 10_000 }, { action: 'org.limits.set', targetType: 'org' });
    const providerKey = 'sk-proj-vaultsecret0123456789abcdefghijklmnop';
    keep(providerKey);
    const provider = await step('POST', '/api/providers', { name: 'backup', provider: 'openai', base_url: 'http://127.0.0.1:9/v1', api_key: providerKey, models: ['m'] }, { action: 'provider.create', targetType: 'provider' });
    await step('DELETE', `/api/providers/${provider.id}`, undefined, { action: 'provider.delete', targetType: 'provider', targetId: provider.id });
    const group = await step('POST', '/api/access-groups', { name: 'cheap', models: ['gpt-4o-mini'] }, { action: 'access_group.create', targetType: 'access_group' });
    await step('PATCH', `/api/access-groups/${group.id}`, { description: 'small models' }, { action: 'access_group.update', targetType: 'access_group', targetId: group.id });
    await step('DELETE', `/api/access-groups/${group.id}`, undefined, { action: 'access_group.delete', targetType: 'access_group', targetId: group.id });

    // Teams, members and allocations.
    const team = await step('POST', '/api/teams', { name: 'Research' }, { action: 'team.create', targetType: 'team', status: 201 });
    await step('PATCH', `/api/teams/${team.id}`, { description: 'the lab' }, { action: 'team.update', targetType: 'team', targetId: team.id, teamId: team.id });
    await step('PUT', `/api/teams/${team.id}/limits`, { rpm: 600 }, { action: 'team.limits.set', targetType: 'team', teamId: team.id });
    await step('PUT', `/api/teams/${team.id}/self-service`, { enabled: true, max_keys_per_user: 3, max_budget_usd: 20 }, { action: 'team.self_service.set', targetType: 'team', targetId: team.id, teamId: team.id });
    keep(PASSWORD, NEW_PASSWORD);
    const user = await step('POST', '/api/users', { external_id: 'ada', email: 'ada@example.com', name: 'Ada', password: PASSWORD }, { action: 'user.create', targetType: 'user', status: 201 });
    await step('PATCH', `/api/users/${user.id}`, { name: 'Ada L.' }, { action: 'user.update', targetType: 'user', targetId: user.id });
    await step('PATCH', `/api/users/${user.id}`, { role: 'viewer' }, { action: 'user.role_change', targetType: 'user', targetId: user.id });
    await step('PATCH', `/api/users/${user.id}`, { role: 'member' }, { action: 'user.role_change', targetType: 'user', targetId: user.id });
    await step('PUT', `/api/teams/${team.id}/members/${user.id}`, { role: 'member', allocation_usd: 50 }, { action: 'allocation.set', targetType: 'member', teamId: team.id });
    await step('PUT', `/api/teams/${team.id}/members/${user.id}`, { role: 'member' }, { action: 'member.set', targetType: 'member', teamId: team.id });
    await step('PATCH', `/api/teams/${team.id}/members/${user.id}/limits`, { max_budget_usd: 40 }, { action: 'allocation.set', targetType: 'member', teamId: team.id });

    // Keys: create, update, limits, rotate, end an older secret, schedule, revoke.
    const key = await step('POST', `/api/teams/${team.id}/keys`, { name: 'notebook', user_id: user.id, max_budget_usd: 10 }, { action: 'key.create', targetType: 'key', teamId: team.id, status: 201 });
    keep(key.key);
    // A secret pasted where it does not belong is still kept out of the trail.
    const pasted = 'sk-ant-api03-pastedintoadescription0123456789';
    keep(pasted);
    await step('PATCH', `/api/keys/${key.id}`, { description: `jupyter; upstream was ${pasted}` }, { action: 'key.update', targetType: 'key', targetId: key.id, teamId: team.id });
    const updated = await db.selectFrom('audit_events').select('after').where('action', '=', 'key.update').orderBy('id', 'desc').executeTakeFirstOrThrow();
    assert.equal(JSON.parse(updated.after!).description, 'jupyter; upstream was [redacted]');
    await step('PUT', `/api/keys/${key.id}/limits`, { rpm: 60 }, { action: 'key.limits.set', targetType: 'key', teamId: team.id });
    const rotated = await step('POST', `/api/keys/${key.id}/rotate`, { grace_period_seconds: 3600 }, { action: 'key.rotate', targetType: 'key', targetId: key.id, teamId: team.id });
    keep(rotated.key);
    await step('DELETE', `/api/keys/${key.id}/secrets/${rotated.previous_secret.id}`, undefined, { action: 'key.secret.end', targetType: 'key', targetId: key.id, teamId: team.id });
    await step('PUT', `/api/keys/${key.id}/rotation-schedule`, { rotate_every_days: 30 }, { action: 'key.rotation_schedule.set', targetType: 'key', targetId: key.id });
    await step('DELETE', `/api/keys/${key.id}/rotation-schedule`, undefined, { action: 'key.rotation_schedule.delete', targetType: 'key', targetId: key.id });
    await step('DELETE', `/api/keys/${key.id}`, undefined, { action: 'key.revoke', targetType: 'key', targetId: key.id, teamId: team.id });

    // Service accounts.
    const sa = await step('POST', `/api/teams/${team.id}/service-accounts`, { name: 'ci' }, { action: 'service_account.create', targetType: 'service_account', teamId: team.id, status: 201 });
    await step('PUT', `/api/service-accounts/${sa.id}/limits`, { rpm: 30 }, { action: 'service_account.limits.set', targetType: 'service_account', teamId: team.id });
    await step('DELETE', `/api/teams/${team.id}/service-accounts/${sa.id}`, undefined, { action: 'service_account.delete', targetType: 'service_account', targetId: sa.id, teamId: team.id });

    // Management keys.
    const mk = await step('POST', '/api/management-keys', { name: 'terraform', role: 'admin' }, { action: 'management_key.create', targetType: 'management_key', status: 201 });
    keep(mk.key);
    await step('PATCH', `/api/management-keys/${mk.id}`, { description: 'infra repo' }, { action: 'management_key.update', targetType: 'management_key', targetId: mk.id });
    const mkRotated = await step('POST', `/api/management-keys/${mk.id}/rotate`, {}, { action: 'management_key.rotate', targetType: 'management_key', targetId: mk.id, status: 200 });
    keep(mkRotated.key);
    // A change made with the management key is that key's.
    const byKey = await step('POST', '/api/teams', { name: 'Made by Terraform' }, { action: 'team.create', targetType: 'team', actor: `admin_key:${mk.id}`, status: 201 }, { key: mkRotated.key });
    await step('DELETE', `/api/management-keys/${mk.id}`, undefined, { action: 'management_key.revoke', targetType: 'management_key', targetId: mk.id });

    // People: sign-in (failure and success), a self-service key, password change, sign-out.
    await step('POST', '/api/auth/login', { email: 'ada@example.com', password: 'not the password at all' }, { action: 'auth.login_failed', targetType: 'user', targetId: user.id, actor: `user:${user.id}`, status: 401 }, null);
    await step('POST', '/api/auth/login', { email: 'nobody@example.com', password: 'not the password at all' }, { action: 'auth.login_failed', targetType: 'user', actor: 'system:anonymous', status: 401 }, null);
    const login = await call('POST', '/api/auth/login', { email: 'ada@example.com', password: PASSWORD }, null, 'audit-coverage/1.0 (sign-in)');
    assert.equal(login.status, 200, JSON.stringify(login.body));
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    keep(cookie.slice(cookie.indexOf('=') + 1), login.body.csrf_token);
    const signIn = await db.selectFrom('audit_events').selectAll().where('action', '=', 'auth.login').where('user_agent', '=', 'audit-coverage/1.0 (sign-in)').executeTakeFirstOrThrow();
    assert.deepEqual([signIn.actor_type, signIn.actor_id, signIn.target_id, signIn.source_ip], ['user', String(user.id), String(user.id), '127.0.0.1']);
    const ada = { cookie, csrf: login.body.csrf_token as string };
    const mine = await step('POST', '/api/me/keys', { name: 'laptop', team_id: team.id, max_budget_usd: 5 }, { action: 'key.create', targetType: 'key', teamId: team.id, actor: `user:${user.id}`, status: 201 }, ada);
    keep(mine.key);
    const myRotated = await step('POST', `/api/me/keys/${mine.id}/rotate`, {}, { action: 'key.rotate', targetType: 'key', targetId: mine.id, actor: `user:${user.id}` }, ada);
    keep(myRotated.key);
    await step('DELETE', `/api/me/keys/${mine.id}`, undefined, { action: 'key.revoke', targetType: 'key', targetId: mine.id, actor: `user:${user.id}` }, ada);
    await step('PUT', '/api/me/password', { current_password: 'a wrong current password', new_password: NEW_PASSWORD }, { action: 'user.password_change_failed', targetType: 'user', targetId: user.id, actor: `user:${user.id}`, status: 400 }, ada);
    await step('PUT', '/api/me/password', { current_password: PASSWORD, new_password: NEW_PASSWORD }, { action: 'user.password_change', targetType: 'user', targetId: user.id, actor: `user:${user.id}` }, ada);
    await step('POST', '/api/auth/logout', {}, { action: 'auth.logout', targetType: 'session', actor: `user:${user.id}`, status: 200 }, ada);

    // Invitations: created by an admin, accepted with a password.
    const inv = await step('POST', '/api/invitations', { email: 'grace@example.com', team_id: team.id }, { action: 'invitation.create', targetType: 'invitation', teamId: team.id, status: 201 });
    keep(inv.token);
    await step('POST', `/api/invitations/${inv.token}/accept`, { password: NEW_PASSWORD, name: 'Grace' }, { action: 'invitation.accept', targetType: 'invitation', targetId: inv.id, teamId: team.id, actor: /^user:\d+$/, status: 200 }, null);
    const inv2 = await step('POST', '/api/invitations', { email: 'linus@example.com' }, { action: 'invitation.create', targetType: 'invitation', status: 201 });
    keep(inv2.token);
    await step('DELETE', `/api/invitations/${inv2.id}`, undefined, { action: 'invitation.revoke', targetType: 'invitation', targetId: inv2.id });

    // Offboarding, membership removal, team deletion; organizations (the master key's).
    await step('POST', `/api/users/${user.id}/deactivate`, {}, { action: 'user.deactivate', targetType: 'user', targetId: user.id, status: 200 });
    await step('POST', `/api/users/${user.id}/reactivate`, {}, { action: 'user.reactivate', targetType: 'user', targetId: user.id, status: 200 });
    await step('DELETE', `/api/teams/${team.id}/members/${user.id}`, undefined, { action: 'member.remove', targetType: 'member', teamId: team.id });
    await step('DELETE', `/api/teams/${byKey.id}`, undefined, { action: 'team.delete', targetType: 'team', targetId: byKey.id, teamId: byKey.id });
    const org = await call('POST', '/api/orgs', { name: 'Second Org' }, master, 'audit-coverage/1.0 (org)');
    assert.equal(org.status, 201);
    keep(org.body.admin_key);
    const orgEvent = await db.selectFrom('audit_events').selectAll().where('action', '=', 'org.create').executeTakeFirstOrThrow();
    assert.deepEqual([orgEvent.org_id, orgEvent.target_id, orgEvent.actor_id, orgEvent.user_agent], [org.body.id, String(org.body.id), 'master', 'audit-coverage/1.0 (org)']);
    const adminKey = await call('POST', `/api/orgs/${org.body.id}/admin-keys`, { name: 'second' }, master, 'audit-coverage/1.0 (org admin key)');
    assert.equal(adminKey.status, 201);
    keep(adminKey.body.key);
    const keyEvent = await db.selectFrom('audit_events').selectAll().where('user_agent', '=', 'audit-coverage/1.0 (org admin key)').executeTakeFirstOrThrow();
    assert.deepEqual([keyEvent.org_id, keyEvent.action, keyEvent.actor_id, keyEvent.source_ip], [org.body.id, 'management_key.create', 'master', '127.0.0.1']);

    const r = await verifyAudit(db);
    assert.ok(r.every((x) => x.ok), JSON.stringify(r));
  });

  test('no secret in any event: keys, provider credentials, passwords, session and invitation tokens', async () => {
    assert.ok(secrets.size >= 10, `${secrets.size} secrets collected`);
    const rows = JSON.stringify(await db.selectFrom('audit_events').selectAll().execute());
    const api: unknown[] = [];
    for (let cursor: string | null = null, first = true; first || cursor; first = false) {
      const page: Reply = await gw.api('GET', `/api/audit?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(page.status, 200);
      api.push(...page.body.data);
      cursor = page.body.next_cursor;
    }
    const shown = JSON.stringify(api);
    for (const s of secrets) {
      assert.ok(!rows.includes(s), `a secret (${s.slice(0, 8)}…) is stored in audit_events`);
      assert.ok(!shown.includes(s), `a secret (${s.slice(0, 8)}…) is shown by GET /api/audit`);
    }
    // Nothing secret-shaped either: no password hash, no key hash column, no session token.
    assert.doesNotMatch(rows, /\$argon2|"key_hash":"[0-9a-f]|tgs_[A-Za-z0-9_-]{20}|sk-tg[am]?-[A-Za-z0-9]{30}/);
  });

  test('GET /api/audit: newest first, with chain links; filters by actor, action (exact and prefix), target, team, time', async () => {
    const all = await db.selectFrom('audit_events').selectAll().where('org_id', '=', 1).orderBy('id', 'desc').execute();
    const get = async (q: string) => {
      const res = await gw.api('GET', `/api/audit?limit=200${q ? `&${q}` : ''}`);
      assert.equal(res.status, 200, `${q}: ${JSON.stringify(res.body)}`);
      return res.body.data as any[];
    };
    const ids = (rows: Array<{ id: number }>) => rows.map((r) => r.id);
    const page = await get('');
    assert.deepEqual(ids(page), ids(all.slice(0, 200)));
    const top = page[0]!;
    const row = all[0]!;
    assert.deepEqual(Object.keys(top).sort(), ['action', 'actor', 'actor_id', 'actor_name', 'actor_type', 'after', 'amount_usd', 'at', 'before', 'hash', 'id', 'prev_hash', 'source_ip', 'target_id', 'target_name', 'target_type', 'team_id', 'user_agent'].sort());
    assert.deepEqual([top.hash, top.prev_hash, top.at, top.user_agent], [row.hash, row.prev_hash, row.created_at, row.user_agent]);
    assert.equal(page[1].hash, top.prev_hash, 'each event links to the one shown after it');

    const expect = async (q: string, pick: (e: Event) => boolean) => {
      const want = all.filter(pick);
      assert.ok(want.length > 0, `${q}: the fixture has matching events`);
      assert.deepEqual(ids(await get(q)), ids(want), q);
    };
    const userEvent = all.find((e) => e.actor_type === 'user')!;
    const mkEvent = all.find((e) => e.actor_type === 'admin_key' && e.actor_id !== 'master')!;
    await expect(`actor=user:${userEvent.actor_id}`, (e) => e.actor_type === 'user' && e.actor_id === userEvent.actor_id);
    await expect(`actor=admin_key:${mkEvent.actor_id}`, (e) => e.actor_type === 'admin_key' && e.actor_id === mkEvent.actor_id);
    await expect('actor=admin_key:master', (e) => e.actor_id === 'master');
    await expect('actor_type=user', (e) => e.actor_type === 'user');
    await expect('action=key.rotate', (e) => e.action === 'key.rotate');
    await expect('action=key.*', (e) => e.action.startsWith('key.'));
    await expect('action=key.rotation_schedule.*', (e) => e.action.startsWith('key.rotation_schedule.'));
    await expect('action=team.*&actor=admin_key:master', (e) => e.action.startsWith('team.') && e.actor_id === 'master');
    const keyEvent = all.find((e) => e.action === 'key.rotate')!;
    await expect(`target_type=key&target_id=${keyEvent.target_id}`, (e) => e.target_type === 'key' && e.target_id === keyEvent.target_id);
    await expect('target_type=management_key', (e) => e.target_type === 'management_key');
    await expect(`team_id=${keyEvent.team_id}`, (e) => e.team_id === keyEvent.team_id);
    // Time: from is inclusive, to exclusive; an offset is read as the instant it names.
    const mid = all[Math.floor(all.length / 2)]!.created_at;
    const later = all[Math.floor(all.length / 4)]!.created_at;
    await expect(`from=${mid}`, (e) => e.created_at >= mid);
    await expect(`to=${mid}`, (e) => e.created_at < mid);
    await expect(`from=${mid}&to=${later}`, (e) => e.created_at >= mid && e.created_at < later);
    const inParis = new Date(Date.parse(mid) + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
    await expect(`from=${encodeURIComponent(inParis)}`, (e) => e.created_at >= mid);
    assert.deepEqual(await get('action=nothing.like.this'), []);
  });

  test('GET /api/audit: cursor paging walks every event once, with and without filters', async () => {
    for (const q of ['', '&action=key.*', `&actor_type=user`]) {
      const seen: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: Reply = await gw.api('GET', `/api/audit?limit=4${q}${cursor ? `&cursor=${cursor}` : ''}`);
        assert.equal(res.status, 200);
        assert.ok(res.body.data.length <= 4 && res.body.limit === 4);
        seen.push(...res.body.data.map((e: { id: number }) => e.id));
        cursor = res.body.next_cursor;
        pages++;
      } while (cursor);
      const whole = (await gw.api('GET', `/api/audit?limit=200${q}`)).body.data.map((e: { id: number }) => e.id);
      assert.deepEqual(seen, whole, `paged = unpaged (${q || 'no filter'})`);
      assert.equal(pages, Math.max(1, Math.ceil(whole.length / 4)), 'no empty last page');
    }
  });

  test('GET /api/audit: bad parameters are 400 naming the parameter', async () => {
    const cases: Array<[string, string]> = [
      ['limit=201', 'query.limit'],
      ['limit=0', 'query.limit'],
      ['cursor=not-a-cursor', 'query.cursor'],
      [`cursor=${Buffer.from('["keys",5]').toString('base64url')}`, 'query.cursor'],
      ['action=Key.Create', 'query.action'],
      ['action=key.*.x', 'query.action'],
      ['actor=5', 'query.actor'],
      ['actor=user:5&actor_type=admin_key', 'query.actor_type'],
      ['from=yesterday', 'query.from'],
      ['from=2026-05-05T00:00:00Z&to=2026-05-04T00:00:00Z', 'query.to'],
      ['team_id=abc', 'query.team_id'],
      ['colour=blue', 'query.colour'],
    ];
    for (const [q, param] of cases) {
      const res = await gw.api('GET', `/api/audit?${q}`);
      assert.equal(res.status, 400, `${q}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.param, param, q);
      assert.equal(res.body.error.code, 'invalid_request');
    }
  });

  test("who reads what: admins and viewers the organization's trail, an owner their team's events, a member nothing", async () => {
    const a = (await gw.api('POST', '/api/teams', { name: 'Team A' })).body;
    const b = (await gw.api('POST', '/api/teams', { name: 'Team B' })).body;
    assert.equal((await gw.api('POST', `/api/teams/${a.id}/keys`, { name: 'a key' })).status, 201);
    assert.equal((await gw.api('POST', `/api/teams/${b.id}/keys`, { name: 'b key' })).status, 201);
    const owner = await signedInUser(gw, 'owner-a', 'member', { [a.id]: 'owner' });
    const member = await signedInUser(gw, 'member-a', 'member', { [a.id]: 'member' });
    const viewer = await signedInUser(gw, 'auditor', 'viewer');
    const admin = await signedInUser(gw, 'boss', 'admin');

    const everything = (await gw.api('GET', '/api/audit?limit=200')).body.data.map((e: { id: number }) => e.id);
    for (const reader of [viewer, admin]) {
      const res = await reader.api('GET', '/api/audit?limit=200');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.data.map((e: { id: number }) => e.id), everything);
    }

    const own = await owner.api('GET', '/api/audit?limit=200');
    assert.equal(own.status, 200);
    const teamA = await db.selectFrom('audit_events').select('id').where('team_id', '=', a.id).orderBy('id', 'desc').execute();
    assert.ok(teamA.length >= 3, 'team.create, key.create and member.set of team A');
    assert.deepEqual(own.body.data.map((e: { id: number }) => e.id), teamA.map((e) => e.id));
    assert.ok(own.body.data.every((e: { team_id: number }) => e.team_id === a.id));
    assert.equal((await owner.api('GET', `/api/audit?team_id=${a.id}&action=key.*`)).body.data.length, 1);
    const other = await owner.api('GET', `/api/audit?team_id=${b.id}`);
    assert.equal(other.status, 403);
    assert.equal(other.body.error.code, 'forbidden');

    const refused = await member.api('GET', '/api/audit');
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'forbidden');

    // A team-scoped management key with the owner role reads its team's events too.
    const mk = await gw.api('POST', '/api/management-keys', { name: 'team a bot', role: 'owner', team_id: a.id });
    assert.equal(mk.status, 201, JSON.stringify(mk.body));
    const byKey = await gw.api('GET', '/api/audit?limit=200', undefined, mk.body.key);
    assert.equal(byKey.status, 200);
    assert.ok(byKey.body.data.length > 0 && byKey.body.data.every((e: { team_id: number }) => e.team_id === a.id));
    // …and a member-role one does not.
    const mkMember = await gw.api('POST', '/api/management-keys', { name: 'team a reader', role: 'member', team_id: a.id });
    assert.equal((await gw.api('GET', '/api/audit', undefined, mkMember.body.key)).status, 403);
  });

  test('each event names its actor and target: people, management keys, the master key; a revoked key and a deleted access group keep theirs; null when there is none', async () => {
    const team = (await gw.api('POST', '/api/teams', { name: 'Naming team' })).body;
    const ada = await signedInUser(gw, 'ada-names', 'admin');
    const key = await ada.api('POST', `/api/teams/${team.id}/keys`, { name: 'names-key' });
    assert.equal(key.status, 201);
    assert.equal((await ada.api('PATCH', `/api/keys/${key.body.id}/limits`, { rpm: 60 })).status, 200);
    assert.equal((await ada.api('DELETE', `/api/keys/${key.body.id}`)).status, 200);
    assert.equal((await gw.api('PUT', `/api/teams/${team.id}/members/${ada.userId}`, { role: 'member' })).status, 200);
    assert.equal((await gw.api('PATCH', `/api/teams/${team.id}/members/${ada.userId}/limits`, { rpm: 30 })).status, 200);
    const bot = (await gw.api('POST', '/api/management-keys', { name: 'names-bot', role: 'admin' })).body;
    const group = await gw.api('POST', '/api/access-groups', { name: 'names-group', models: ['gpt-4o-mini'] }, bot.key);
    assert.equal(group.status, 201);
    assert.equal((await gw.api('DELETE', `/api/access-groups/${group.body.id}`, undefined, bot.key)).status, 200);
    assert.equal((await gw.api('POST', '/api/invitations', { email: 'names-invitee@example.com' })).status, 201);

    const events: any[] = (await gw.api('GET', '/api/audit?limit=30')).body.data;
    const find = (action: string, targetId?: string) => {
      const e = events.find((x) => x.action === action && (targetId === undefined || x.target_id === targetId));
      assert.ok(e, `${action} ${targetId ?? ''} in ${events.map((x) => x.action).join(', ')}`);
      return e;
    };
    const names = (e: any) => [e.actor_name, e.target_name];
    assert.deepEqual(names(find('team.create', String(team.id))), ['Master key', 'Naming team']);
    assert.deepEqual(names(find('key.create', String(key.body.id))), ['ada-names', 'names-key']);
    // a policy scope (key:<id>) names its key too
    assert.deepEqual(names(find('key.limits.set')), ['ada-names', 'names-key']);
    assert.equal(find('key.limits.set').target_id, `key:${key.body.id}`);
    // revoked: the key's row still names it
    assert.deepEqual(names(find('key.revoke', String(key.body.id))), ['ada-names', 'names-key']);
    assert.deepEqual(names(find('access_group.create', String(group.body.id))), ['names-bot', 'names-group']);
    // deleted outright: named by what its event recorded
    assert.deepEqual(names(find('access_group.delete', String(group.body.id))), ['names-bot', 'names-group']);
    assert.deepEqual(names(find('management_key.create', String(bot.id))), ['Master key', 'names-bot']);
    // a member's allocation (target member:<team>:<user>) names both
    assert.deepEqual(names(find('allocation.set')), ['Master key', 'ada-names in Naming team']);
    // an invitation has no name of its own
    assert.deepEqual(names(find('invitation.create')), ['Master key', null]);
    // The system's own jobs read as what they are.
    const row = await db.selectFrom('audit_events').selectAll().where('action', '=', 'invitation.create').executeTakeFirstOrThrow();
    const labels = await eventNames(db, row.org_id, [{ ...row, actor_type: 'system', actor_id: 'rotation' }, { ...row, id: row.id + 1e6, actor_type: 'system', actor_id: 'later-job' }]);
    assert.deepEqual([...labels.values()].map((n) => n.actor_name), ['Scheduled key rotation', 'System (later-job)']);
    // A team owner reads the same names on their team's events.
    const owner = await signedInUser(gw, 'naming-owner', 'member', { [team.id]: 'owner' });
    const theirs: any[] = (await owner.api('GET', `/api/audit?team_id=${team.id}&action=key.create`)).body.data;
    assert.deepEqual(theirs.map(names), [['ada-names', 'names-key']]);
  });
});

describe('redact: what an event may hold', () => {
  test('fields named like secrets lose their text, wherever they are nested', () => {
    const names = ['key', 'api_key', 'apiKey', 'secret', 'secret_enc', 'client_secret', 'key_hash', 'token', 'access_token', 'refresh_token', 'id_token',
      'session_token', 'csrf', 'csrf_token', 'password', 'password_hash', 'new_password', 'current_password', 'code_verifier', 'nonce', 'authorization',
      'Authorization', 'cookie', 'set-cookie', 'private_key', 'credentials', 'webhook_secret', 'management_key', 'token_hash'];
    for (const name of names) {
      const out = redact({ outer: [{ [name]: 'plain-looking-value' }] }) as { outer: Array<Record<string, unknown>> };
      assert.equal(out.outer[0]![name], '[redacted]', name);
    }
    assert.deepEqual(redact({ password: ['a', 'b'] }), { password: ['[redacted]', '[redacted]'] });
  });

  test('what only describes a secret survives: prefixes, hints, ids, counts, token limits', () => {
    const view = {
      key_prefix: 'sk-tg-AbCdEf...', api_key_hint: '...mnop', secret_id: 4, token_limit: 5000, max_tokens: 100, tpm: 10, scopes: ['chat'],
      previous_secret: { id: 7, key_prefix: 'sk-tg-XyZ123...', valid_until: '2026-05-04T10:00:00.000Z' }, password_set: true, created_at: new Date(0),
    };
    assert.deepEqual(redact(view), { ...view, created_at: '1970-01-01T00:00:00.000Z' });
  });

  test('credential-shaped text is cut out of any field', () => {
    const cases: Array<[string, string]> = [
      ['use sk-tg-0123456789abcdefghijABCDEFGHIJ012345 here', 'use [redacted] here'],
      ['mgmt sk-tgm-0123456789abcdefghijABCDEFGHIJ012345', 'mgmt [redacted]'],
      ['openai sk-proj-abc123def456ghi789jkl012', 'openai [redacted]'],
      ['header Bearer abc.def.ghi-123456', 'header [redacted]'],
      ['jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl', 'jwt [redacted]'],
      ['cookie tgs_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA;', 'cookie [redacted];'],
      ['hash $argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', 'hash [redacted]'],
      ['-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----', '[redacted]'],
      ['aws AKIAABCDEFGHIJKLMNOP', 'aws [redacted]'],
      ['nothing to see: sk-tg-AbCdEf... and 42 tokens', 'nothing to see: sk-tg-AbCdEf... and 42 tokens'],
    ];
    for (const [input, want] of cases) assert.equal((redact({ description: input }) as { description: string }).description, want, input);
  });
});
