// The role-based security suite, generated from the permission table (src/auth/permissions.ts):
// for every non-public /api route and every persona (test/support/personas.ts), the expected
// outcome is decide(persona's actor, route's action, the route's target) — nothing here is written
// per route. Allowed: neither 401 nor 403 (an empty body's 400, a 404 or 409 are fine). Denied:
// 403 `forbidden`. Never a 5xx (the route guard answers 500 when a route did not ask for its
// action), and no answer shows a victim object the table does not let the persona read. Then the
// credential cases of issue 10 across every route: none, wrong, an expired session, a session
// without its CSRF token, another organization's admin, an inference key on /api — and management
// keys on /v1, with the official openai SDK.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { DIALECTS, dialectSkip, startGateway, type Gateway } from './support/gateway.ts';
import { fillUrl, makePersona, PERSONAS, sessionCaller, targetOf, visibleObjects, type Persona, type Reply } from './support/personas.ts';
import { sessionFor } from './support/sessions.ts';
import { decide, isAction, type Action } from '../src/auth/permissions.ts';
import { generateKey } from '../src/keys/key-format.ts';
import { iso } from '../src/clock.ts';
import type { RouteEntry } from '../src/app.ts';

type Route = RouteEntry & { action: Action };

/**
 * Reads first, then writes, then what destroys (DELETE, revoke, deactivate) — sub-resources
 * before the object they hang on — so a persona's own allowed DELETE does not turn its later
 * checks into 404s.
 */
function phase(r: Route): number {
  if (r.method === 'GET') return 0;
  if (r.method === 'DELETE' || /\.(delete|revoke|deactivate)$/.test(r.action) || /\/(deactivate|revoke)$/.test(r.url)) return 2;
  return 1;
}
const depth = (r: Route) => r.url.split('/').length;
const ordered = (routes: Route[]) => [...routes].sort((a, b) => phase(a) - phase(b) || (phase(a) === 2 ? depth(b) - depth(a) : 0));

const bodyFor = (method: string) => (method === 'GET' || method === 'DELETE' ? undefined : {});

type Expected = 'allowed' | 'denied' | 'denied once the body is read';

/**
 * The request a persona sends on a route, and what the table says it gets. A route whose target is
 * in the URL is decided on it. A write without one (POST /api/keys, /api/invitations, /api/me/keys,
 * /api/management-keys …) is decided twice, as the route does: coarsely before the body is read
 * (a refusal there is 403 whatever the body), then on the team the body names — the victim team,
 * sent as `team_id`; a body otherwise incomplete may be refused (400) before that second decision.
 */
function expectation(persona: Persona, r: Route): { expected: Expected; body: unknown } {
  const target = targetOf(r.url, persona.world);
  const coarse = decide(persona.actor, r.action, target) ? 'allowed' : 'denied';
  const body = bodyFor(r.method);
  if (target !== undefined || body === undefined || coarse === 'denied') return { expected: coarse, body };
  const teamId = persona.world.teamId;
  return { expected: decide(persona.actor, r.action, { teamId }) ? 'allowed' : 'denied once the body is read', body: { team_id: teamId } };
}

function answers(expected: Expected, res: Reply): boolean {
  if (res.status >= 500) return false;
  const forbidden = res.status === 403 && res.body?.error?.code === 'forbidden';
  if (expected === 'allowed') return res.status !== 401 && res.status !== 403;
  if (expected === 'denied') return forbidden;
  return forbidden || res.status === 400;
}
const label = (r: RouteEntry) => `${r.method} ${r.url}`;
const got = (res: Reply) => `${res.status} ${res.body?.error?.code ?? ''}`.trim();

for (const dialect of DIALECTS) describe(`permission table on every /api route (${dialect})`, { skip: dialectSkip(dialect) }, () => {
  let gw: Gateway;
  let routes: Route[];
  const personas: Persona[] = [];
  /** objects no persona acts on: the credential-only cases below use them */
  let bystander: Persona;
  let otherOrg: { key: string; userId: number };

  before(async () => {
    gw = await startGateway({ dialect });
    const all = gw.runtime.app.routeTable.filter((r) => r.url.startsWith('/api/') && !r.public);
    // Fail loudly, before anything else, on a route the table does not cover.
    const undeclared = all.filter((r) => !r.action || !isAction(r.action)).map((r) => `${label(r)} → ${r.action ?? 'no action'}`);
    assert.deepEqual(undeclared, [], 'every non-public /api route declares an action of src/auth/permissions.ts');
    routes = all as Route[];
    assert.ok(routes.length >= 70, `found ${routes.length} /api routes`);
    for (const [n, spec] of PERSONAS.entries()) personas.push(await makePersona(gw, spec, n));
    bystander = await makePersona(gw, { name: 'bystander', kind: 'user', role: 'admin' }, PERSONAS.length);
    const org = (await gw.api('POST', '/api/orgs', { name: 'Attacker Inc' })).body;
    const orgAdmin = await gw.runtime.deps.db.kysely.selectFrom('users').select('id').where('org_id', '=', org.id).where('role', '=', 'admin').executeTakeFirstOrThrow();
    otherOrg = { key: org.admin_key, userId: orgAdmin.id };
  });
  after(() => gw?.close());

  for (const [i, spec] of PERSONAS.entries()) {
    test(`${spec.name}: every route answers as the table decides`, async (t) => {
      const persona = personas[i]!;
      const wrong: string[] = [];
      let allowed = 0;
      // Every victim object of every world (this persona's, the others', the bystander's) that the
      // table does not let this persona read: no answer may show its name.
      const unreadable = [...personas, bystander].flatMap((p) => visibleObjects(p.world)).filter((o) => !decide(persona.actor, o.action, o.target));
      for (const r of ordered(routes)) {
        const { expected, body } = expectation(persona, r);
        const res = await persona.call(r.method, fillUrl(r.url, persona.world), body);
        if (!answers(expected, res)) wrong.push(`${label(r)} [${r.action}]: expected ${expected === 'allowed' ? 'allowed' : `403 forbidden (${expected})`}, got ${got(res)}`);
        if (expected === 'allowed') allowed++;
        const text = JSON.stringify(res.body ?? null);
        for (const o of unreadable) if (o.pattern.test(text)) wrong.push(`${label(r)} [${r.action}] shows ${o.what}, which ${o.action} does not let this persona read`);
      }
      t.diagnostic(`${routes.length} routes: ${allowed} allowed, ${routes.length - allowed} denied by the table`);
      assert.deepEqual(wrong, [], `${spec.name}: routes disagreeing with the permission table`);
    });
  }

  test('summary: routes × personas checked', (t) => {
    const byAction = new Set(routes.map((r) => r.action));
    t.diagnostic(`${routes.length} routes (${byAction.size} actions) × ${PERSONAS.length} personas = ${routes.length * PERSONAS.length} decisions checked on ${dialect}`);
  });

  test('a viewer writes nothing but their own session and password (the table, read route by route)', () => {
    for (const viewer of personas.filter((p) => p.actor.role === 'viewer' && !p.actor.teams?.size)) {
      const writes = routes.filter((r) => r.method !== 'GET' && expectation(viewer, r).expected === 'allowed').map(label);
      assert.deepEqual(writes.filter((w) => !/ \/api\/(me|auth)\//.test(w)), [], `${viewer.spec.name} may write`);
    }
  });

  test('no credential → 401 missing_credentials; a wrong one → 401', async () => {
    const wrong: string[] = [];
    for (const r of routes) {
      const path = fillUrl(r.url, bystander.world);
      const none = await gw.api(r.method, path, bodyFor(r.method), null);
      if (none.status !== 401 || none.body?.error?.code !== 'missing_credentials') wrong.push(`${label(r)} with none: ${got(none)}`);
      for (const cred of ['wrong-admin-key', generateKey('sk-tgm-'), generateKey('sk-tga-')]) {
        const res = await gw.api(r.method, path, bodyFor(r.method), cred);
        if (res.status !== 401) wrong.push(`${label(r)} with ${cred.slice(0, 7)}…: ${got(res)}`);
      }
      const cookie = await fetch(gw.url + path, { method: r.method, headers: { cookie: 'tollgate_session=tgs_not-a-session', 'x-csrf-token': 'x' } });
      if (cookie.status !== 401) wrong.push(`${label(r)} with an unknown session: ${cookie.status}`);
    }
    assert.deepEqual(wrong, []);
  });

  test('an expired session → 401 session_expired on every route', async () => {
    const session = await sessionFor(gw, bystander.userId!);
    const db = gw.runtime.deps.db.kysely;
    const past = iso(gw.runtime.deps.clock.now() - 1000);
    await db.updateTable('sessions').set({ expires_at: past }).where('user_id', '=', bystander.userId!).execute();
    const wrong: string[] = [];
    for (const r of routes) {
      const res = await session.api(r.method, fillUrl(r.url, bystander.world), bodyFor(r.method));
      if (res.status !== 401 || res.body?.error?.code !== 'session_expired') wrong.push(`${label(r)}: ${got(res)}`);
    }
    assert.deepEqual(wrong, []);
  });

  test('a session without its CSRF token (or with a wrong one) → 403 csrf_failed on every state change', async () => {
    const admin = personas.find((p) => p.actor.type === 'user' && p.actor.role === 'admin')!;
    const session = await sessionFor(gw, admin.userId!);
    const wrong: string[] = [];
    let checked = 0;
    for (const r of ordered(routes)) {
      if (r.method === 'GET') continue;
      checked++;
      const path = fillUrl(r.url, bystander.world);
      const res = await session.api(r.method, path, bodyFor(r.method), { csrf: false });
      if (res.status !== 403 || res.body?.error?.code !== 'csrf_failed') wrong.push(`${label(r)} without: ${got(res)}`);
      const forged = await fetch(gw.url + path, { method: r.method, headers: { cookie: session.cookie, 'x-csrf-token': 'tgc_forged', 'content-type': 'application/json' }, ...(bodyFor(r.method) ? { body: '{}' } : {}) });
      if (forged.status !== 403) wrong.push(`${label(r)} forged: ${forged.status}`);
    }
    assert.ok(checked > 30);
    assert.deepEqual(wrong, []);
    // Nothing was changed: the bystander's key still answers on /v1.
    const ok = await gw.openai(bystander.world.keySecret).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'still here' }] });
    assert.equal(ok.object, 'chat.completion');
  });

  test("another organization's admin (management key or session) gets 404/403 and sees nothing of this one", async () => {
    const callers: Array<[string, Persona['call']]> = [
      ['admin key', (m, p, b) => gw.api(m, p, b, otherOrg.key)],
      ['admin session', await sessionCaller(gw, otherOrg.userId)],
    ];
    const wrong: string[] = [];
    for (const [who, call] of callers) {
      for (const r of ordered(routes)) {
        const res = await call(r.method, fillUrl(r.url, bystander.world), bodyFor(r.method));
        const text = JSON.stringify(res.body);
        if (res.status >= 500) wrong.push(`${who} ${label(r)}: ${got(res)}`);
        if (/[Vv]ictim|persona-/.test(text)) wrong.push(`${who} ${label(r)} leaked: ${text.slice(0, 200)}`);
        // A route naming an object acts on this organization's: never found, or refused. (A price
        // names a model, not an object: /api/prices/:model acts in the caller's own organization.)
        if (r.url.includes(':') && r.url !== '/api/prices/:model' && res.status !== 404 && res.status !== 403) wrong.push(`${who} ${label(r)}: ${got(res)}`);
      }
    }
    assert.deepEqual(wrong, []);
    // …and the bystander's objects are untouched.
    assert.equal((await gw.api('GET', `/api/keys/${bystander.world.keyId}`)).body.status, 'active');
    assert.equal((await gw.api('GET', `/api/teams/${bystander.world.teamId}/service-accounts`)).body.data.length, 1);
    assert.equal((await gw.api('GET', `/api/users/${bystander.world.memberId}`)).status, 200);
  });

  test('an inference key on /api → 403 forbidden on every route', async () => {
    const wrong: string[] = [];
    for (const r of routes) {
      const res = await gw.api(r.method, fillUrl(r.url, bystander.world), bodyFor(r.method), bystander.world.keySecret);
      if (res.status !== 403 || res.body?.error?.code !== 'forbidden') wrong.push(`${label(r)}: ${got(res)}`);
    }
    assert.deepEqual(wrong, []);
  });

  test('a management key on /v1 → 401 (official openai SDK)', async () => {
    const keys = personas.filter((p) => p.secret).map((p) => p.secret!);
    keys.push(otherOrg.key);
    assert.ok(keys.length >= 4);
    for (const key of keys) {
      const client = gw.openai(key);
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['chat.completions', () => client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })],
        ['completions', () => client.completions.create({ model: 'gpt-4o', prompt: 'hi' })],
        ['embeddings', () => client.embeddings.create({ model: 'text-embedding-3-small', input: 'hi' })],
        ['models', () => client.models.list()],
      ];
      for (const [name, call] of calls) {
        await assert.rejects(call(), (err: unknown) => {
          assert.ok(err instanceof OpenAI.AuthenticationError, `${name} with ${key.slice(0, 7)}…: ${String(err)}`);
          assert.equal(err.status, 401);
          assert.ok(!String(err.message).includes(key), 'the key is not echoed');
          return true;
        });
      }
    }
  });
});
