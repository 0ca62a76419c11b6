// GET /api/logs, GET /api/logs/{requestId} and GET /api/teams/{id}/logs on both dialects: every
// filter, cursor paging newest first (ties on created_at included), each caller's scope, the
// single-request view of a real /v1 request, and the team listing's offset kept working.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { DIALECTS, dialectSkip, startGateway, type Gateway } from './support/gateway.ts';
import { signedInUser, type TestSession } from './support/sessions.ts';
import type { LogRow } from '../src/usage/log-writer.ts';

type Seeded = Pick<LogRow, 'request_id' | 'created_at' | 'org_id' | 'team_id' | 'user_id' | 'key_id' | 'endpoint' | 'model' | 'status_code' | 'error_code'>;

const STATUSES: Array<[number, string | null]> = [[200, null], [200, null], [429, 'rate_limit_exceeded'], [500, 'upstream_error'], [400, 'invalid_request'], [403, 'model_not_allowed']];
const MODELS = ['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small'];

for (const dialect of DIALECTS) describe(`request logs API (${dialect})`, { skip: dialectSkip(dialect) }, () => {
  let gw: Gateway;
  let orgId: number;
  let teamA: number;
  let teamB: number;
  let owner: TestSession;
  let member: TestSession;
  let memberB: TestSession;
  let viewer: TestSession;
  let teamBKey: string;
  const keys: Record<string, { id: number; userId: number; teamId: number; secret: string }> = {};
  const seeded: Seeded[] = [];
  let otherOrgKey: string;
  let foreignId: string;

  before(async () => {
    gw = await startGateway({ dialect });
    orgId = gw.runtime.deps.defaultOrgId;
    teamA = (await gw.api('POST', '/api/teams', { name: 'Alpha' })).body.id;
    teamB = (await gw.api('POST', '/api/teams', { name: 'Beta' })).body.id;
    owner = await signedInUser(gw, 'owner-a', 'member', { [teamA]: 'owner', [teamB]: 'member' });
    member = await signedInUser(gw, 'member-a', 'member', { [teamA]: 'member' });
    memberB = await signedInUser(gw, 'member-b', 'member', { [teamB]: 'member' });
    viewer = await signedInUser(gw, 'viewer', 'viewer');
    const key = async (name: string, teamId: number, userId: number) => {
      const k = (await gw.api('POST', `/api/teams/${teamId}/keys`, { name, user_id: userId })).body;
      keys[name] = { id: k.id, userId, teamId, secret: k.key };
    };
    await key('owner-a', teamA, owner.userId);
    await key('member-a', teamA, member.userId);
    await key('owner-in-b', teamB, owner.userId);
    await key('member-b', teamB, memberB.userId);
    teamBKey = (await gw.api('POST', '/api/management-keys', { name: 'beta automation', role: 'member', team_id: teamB })).body.key;
    const other = (await gw.api('POST', '/api/orgs', { name: 'Elsewhere' })).body;
    otherOrgKey = other.admin_key;

    // 60 rows over the four keys, two per minute from 2026-03-01 (pairs share a created_at: the
    // cursor must break ties by id), plus one of another organization.
    const names = Object.keys(keys);
    const start = Date.parse('2026-03-01T00:00:00Z');
    for (let i = 0; i < 60; i++) {
      const k = keys[names[i % names.length]!]!;
      const [status, code] = STATUSES[i % STATUSES.length]!;
      seeded.push({
        request_id: randomUUID(), created_at: new Date(start + Math.floor(i / 2) * 60_000).toISOString(), org_id: orgId, team_id: k.teamId, user_id: k.userId, key_id: k.id,
        endpoint: i % 7 === 0 ? 'embeddings' : 'chat/completions', model: MODELS[i % MODELS.length]!, status_code: status, error_code: code,
      });
    }
    const foreign = { ...seeded[0]!, request_id: randomUUID(), org_id: other.id };
    foreignId = foreign.request_id;
    for (const r of [...seeded, foreign]) {
      gw.runtime.deps.logWriter.enqueue({ ...r, provider: 'openai', streamed: 0, tokens_in: 10, tokens_out: 5, cost_micro: 7, unpriced: 0, usage_estimated: 0, latency_ms: 40, client_ip: '127.0.0.1', upstream_ms: 30, ttfb_ms: 12 });
    }
    await gw.flush();
  });
  after(() => gw?.close());

  /** Every row a listing yields, following next_cursor (pages of `limit`). */
  async function all(call: (path: string) => Promise<{ status: number; body: any }>, path: string, limit = 200): Promise<string[]> {
    const out: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const sep = path.includes('?') ? '&' : '?';
      const res = await call(`${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.body)}`);
      assert.ok(res.body.data.length <= limit);
      out.push(...res.body.data.map((r: any) => r.request_id));
      cursor = res.body.next_cursor;
      if (!cursor) return out;
    }
    throw new Error('too many pages');
  }
  const asAdmin = (p: string) => gw.api('GET', p);
  /** The seeded rows matching `pick`, newest first (created_at, then id: insertion order). */
  const expected = (pick: (r: Seeded) => boolean) => seeded.map((r, i) => ({ r, i })).filter(({ r }) => pick(r)).sort((a, b) => (a.r.created_at === b.r.created_at ? b.i - a.i : a.r.created_at < b.r.created_at ? 1 : -1)).map(({ r }) => r.request_id);

  test('newest first; cursor pages of any size yield every row once, in order (ties on created_at by id)', async () => {
    const everything = expected(() => true);
    assert.deepEqual(await all(asAdmin, '/api/logs'), everything);
    for (const limit of [1, 7, 30]) assert.deepEqual(await all(asAdmin, '/api/logs', limit), everything, `limit ${limit}`);
    const first = await gw.api('GET', '/api/logs?limit=2');
    assert.equal(first.body.limit, 2);
    const row = first.body.data[0];
    for (const field of ['request_id', 'created_at', 'team_id', 'user_id', 'key_id', 'endpoint', 'model', 'provider', 'status_code', 'error_code', 'tokens_in', 'tokens_out', 'cached_tokens', 'reasoning_tokens', 'cost_usd', 'latency_ms', 'upstream_ms', 'ttfb_ms']) assert.ok(field in row, field);
  });

  test('every filter, alone and together, with paging', async () => {
    const k = keys['member-a']!;
    const cases: Array<[string, (r: Seeded) => boolean]> = [
      [`team_id=${teamA}`, (r) => r.team_id === teamA],
      [`key_id=${k.id}`, (r) => r.key_id === k.id],
      [`user_id=${owner.userId}`, (r) => r.user_id === owner.userId],
      ['model=gpt-4o-mini', (r) => r.model === 'gpt-4o-mini'],
      ['status=429', (r) => r.status_code === 429],
      ['status=4xx', (r) => r.status_code >= 400 && r.status_code < 500],
      ['status=2xx', (r) => r.status_code < 300],
      ['error_code=upstream_error', (r) => r.error_code === 'upstream_error'],
      ['endpoint=embeddings', (r) => r.endpoint === 'embeddings'],
      ['from=2026-03-01T00:10:00Z', (r) => r.created_at >= '2026-03-01T00:10:00.000Z'],
      ['to=2026-03-01T00:10:00%2B00:00', (r) => r.created_at < '2026-03-01T00:10:00.000Z'],
      [`team_id=${teamB}&status=4xx&from=2026-03-01T00:05:00Z&to=2026-03-01T00:25:00Z`, (r) => r.team_id === teamB && r.status_code >= 400 && r.status_code < 500 && r.created_at >= '2026-03-01T00:05:00.000Z' && r.created_at < '2026-03-01T00:25:00.000Z'],
      [`user_id=${owner.userId}&model=gpt-4o`, (r) => r.user_id === owner.userId && r.model === 'gpt-4o'],
    ];
    for (const [query, pick] of cases) {
      const want = expected(pick);
      assert.ok(want.length > 0, `${query} selects something`);
      assert.deepEqual(await all(asAdmin, `/api/logs?${query}`), want, query);
      assert.deepEqual(await all(asAdmin, `/api/logs?${query}`, 3), want, `${query}, pages of 3`);
    }
    assert.deepEqual((await gw.api('GET', `/api/logs?team_id=${teamA}&key_id=${keys['member-b']!.id}`)).body.data, []);
  });

  test('bad queries are 400 naming the field', async () => {
    const cases: Array<[string, string]> = [
      ['limit=201', 'query.limit'],
      ['limit=0', 'query.limit'],
      ['status=6xx', 'query.status'],
      ['status=42', 'query.status'],
      ['from=yesterday', 'query.from'],
      ['from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z', 'query.to'],
      ['cursor=nope', 'query.cursor'],
      [`cursor=${Buffer.from(JSON.stringify(['audit', 5])).toString('base64url')}`, 'query.cursor'],
      [`cursor=${Buffer.from(JSON.stringify(['logs', 'x', 5])).toString('base64url')}`, 'query.cursor'],
      ['team_id=abc', 'query.team_id'],
      ['colour=red', 'query.colour'],
      ['endpoint=%2Fv1%20x', 'query.endpoint'],
    ];
    for (const [q, param] of cases) {
      const res = await gw.api('GET', `/api/logs?${q}`);
      assert.equal(res.status, 400, q);
      assert.equal(res.body.error.param, param, `${q}: ${res.body.error.message}`);
      assert.equal(res.body.error.type, 'invalid_request_error');
    }
  });

  test('each caller sees their scope: admins and viewers the organization, owners their teams and own keys, members their own keys', async () => {
    const everything = expected(() => true);
    const mine = (userId: number) => (r: Seeded) => r.user_id === userId;
    assert.deepEqual(await all((p) => viewer.api('GET', p), '/api/logs'), everything, 'viewer');
    assert.deepEqual(await all((p) => owner.api('GET', p), '/api/logs', 4), expected((r) => r.team_id === teamA || r.user_id === owner.userId), 'owner of A (and own key in B)');
    assert.deepEqual(await all((p) => member.api('GET', p), '/api/logs', 4), expected(mine(member.userId)), 'member of A');
    assert.deepEqual(await all((p) => memberB.api('GET', p), '/api/logs'), expected(mine(memberB.userId)), 'member of B');
    assert.deepEqual(await all((p) => gw.api('GET', p, undefined, teamBKey), '/api/logs', 5), expected((r) => r.team_id === teamB), 'team-scoped management key');
    assert.deepEqual(await all((p) => gw.api('GET', p, undefined, otherOrgKey), '/api/logs'), [foreignId], 'another organization: only its own row');
    // A filter narrows within the scope; it never widens it.
    assert.deepEqual((await member.api('GET', `/api/logs?team_id=${teamB}`)).body.data, []);
    assert.deepEqual((await member.api('GET', `/api/logs?key_id=${keys['member-b']!.id}`)).body.data, []);
    assert.deepEqual(await all((p) => owner.api('GET', p), `/api/logs?team_id=${teamB}`), expected((r) => r.team_id === teamB && r.user_id === owner.userId));
    assert.deepEqual(await all((p) => owner.api('GET', p), `/api/logs?user_id=${member.userId}&status=2xx`), expected((r) => r.user_id === member.userId && r.status_code < 300));
  });

  test('one request: every column and the overhead; 404 outside the scope', async () => {
    const client = gw.openai(keys['member-a']!.secret);
    const { response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] }).withResponse();
    const requestId = response.headers.get('x-request-id')!;
    assert.match(requestId, /^[0-9a-f-]{36}$/);
    const res = await gw.api('GET', `/api/logs/${requestId}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const log = res.body;
    assert.equal(log.request_id, requestId);
    assert.equal(log.org_id, orgId);
    assert.equal(log.key_id, keys['member-a']!.id);
    assert.equal(log.team_id, teamA);
    assert.equal(log.status_code, 200);
    assert.equal(log.model, 'gpt-4o');
    assert.ok(log.tokens_in > 0 && log.tokens_out > 0);
    for (const f of ['cached_tokens', 'reasoning_tokens']) assert.equal(typeof log[f], 'number', f);
    for (const f of ['upstream_ms', 'ttfb_ms', 'overhead_ms']) assert.ok(f in log, f);
    if (log.upstream_ms !== null) assert.equal(log.overhead_ms, Math.max(0, log.latency_ms - log.upstream_ms));
    else assert.equal(log.overhead_ms, null);
    // Seeded rows carry the timings: the overhead is latency − upstream.
    const seededView = (await gw.api('GET', `/api/logs/${seeded[3]!.request_id}`)).body;
    assert.deepEqual([seededView.latency_ms, seededView.upstream_ms, seededView.ttfb_ms, seededView.overhead_ms], [40, 30, 12, 10]);

    assert.equal((await member.api('GET', `/api/logs/${requestId}`)).status, 200, 'the key owner');
    assert.equal((await owner.api('GET', `/api/logs/${requestId}`)).status, 200, 'the team owner');
    assert.equal((await viewer.api('GET', `/api/logs/${requestId}`)).status, 200, 'a viewer');
    for (const [who, res] of [
      ['a member of another team', await memberB.api('GET', `/api/logs/${requestId}`)],
      ["another team's management key", await gw.api('GET', `/api/logs/${requestId}`, undefined, teamBKey)],
      ['another organization', await gw.api('GET', `/api/logs/${requestId}`, undefined, otherOrgKey)],
      ['an unknown id', await gw.api('GET', `/api/logs/${randomUUID()}`)],
    ] as const) {
      assert.equal(res.status, 404, who);
      assert.equal(res.body.error.code, 'not_found', who);
    }
  });

  test('GET /api/teams/{id}/logs: the same filters and cursor; limit and offset still work', async () => {
    const teamRows = expected((r) => r.team_id === teamA);
    assert.deepEqual(await all(asAdmin, `/api/teams/${teamA}/logs?to=2026-04-01T00:00:00Z`, 4), teamRows);
    assert.deepEqual(await all(asAdmin, `/api/teams/${teamA}/logs?status=4xx&to=2026-03-02T00:00:00Z`, 2), expected((r) => r.team_id === teamA && r.status_code >= 400 && r.status_code < 500));
    const page = await gw.api('GET', `/api/teams/${teamA}/logs?to=2026-04-01T00:00:00Z&limit=3&offset=2`);
    assert.equal(page.status, 200);
    assert.deepEqual(page.body.data.map((r: any) => r.request_id), teamRows.slice(2, 5));
    assert.equal(page.body.offset, 2);
    assert.equal(page.body.limit, 3);
    // (The /v1 request above is in team A too, after April: the range leaves it out.)
    // The cursor after an offset page goes on where it stopped.
    const next = await gw.api('GET', `/api/teams/${teamA}/logs?to=2026-04-01T00:00:00Z&limit=3&cursor=${page.body.next_cursor}`);
    assert.deepEqual(next.body.data.map((r: any) => r.request_id), teamRows.slice(5, 8));
    const both = await gw.api('GET', `/api/teams/${teamA}/logs?offset=1&cursor=${page.body.next_cursor}`);
    assert.equal(both.status, 400);
    assert.equal(both.body.error.param, 'query.offset');
    assert.equal((await gw.api('GET', `/api/teams/${teamA}/logs?team_id=${teamB}`)).body.error.param, 'query.team_id');
    // A member may not read the team's logs (team.logs.read: owners and viewers).
    assert.equal((await member.api('GET', `/api/teams/${teamA}/logs`)).status, 403);
    assert.equal((await owner.api('GET', `/api/teams/${teamA}/logs?limit=1`)).status, 200);
  });

  test("each row names its key, user (name, else email, else external id) and team; null when none; a revoked key and a deleted team keep their names", async () => {
    const listed: any[] = (await gw.api('GET', '/api/logs?limit=200&to=2026-04-01T00:00:00Z')).body.data;
    assert.equal(listed.length, seeded.length);
    const byKeyId = new Map(Object.entries(keys).map(([name, k]) => [k.id, name]));
    const userNames = new Map([[owner.userId, 'owner-a'], [member.userId, 'member-a'], [memberB.userId, 'member-b']]);
    for (const r of listed) {
      assert.deepEqual([r.key_name, r.user_name, r.team_name], [byKeyId.get(r.key_id), userNames.get(r.user_id), r.team_id === teamA ? 'Alpha' : 'Beta'], r.request_id);
    }
    // The team listing carries them too.
    assert.equal((await gw.api('GET', `/api/teams/${teamB}/logs?limit=1`)).body.data[0].team_name, 'Beta');

    const gamma = (await gw.api('POST', '/api/teams', { name: 'Gamma' })).body.id;
    const mailOnly = (await gw.api('POST', '/api/users', { external_id: 'mail-only', email: 'mail.only@example.com' })).body.id;
    const idOnly = (await gw.api('POST', '/api/users', { external_id: 'ext-only-7' })).body.id;
    const newKey = async (name: string) => (await gw.api('POST', `/api/teams/${gamma}/keys`, { name })).body.id as number;
    const [k1, k2, k3] = [await newKey('gamma mail'), await newKey('gamma ext'), await newKey('gamma nobody')];
    const rows: Array<[number, number | null, number | null]> = [[k1, mailOnly, gamma], [k2, idOnly, gamma], [k3, null, null]];
    const ids = rows.map(([keyId, userId, teamId], i) => {
      const request_id = randomUUID();
      gw.runtime.deps.logWriter.enqueue({
        request_id, created_at: `2026-04-15T00:0${i}:00.000Z`, org_id: orgId, team_id: teamId, user_id: userId, key_id: keyId, endpoint: 'chat/completions', model: 'gpt-4o',
        provider: 'openai', status_code: 200, error_code: null, streamed: 0, tokens_in: 1, tokens_out: 1, cost_micro: 1, unpriced: 0, usage_estimated: 0, latency_ms: 5, client_ip: null, upstream_ms: 4, ttfb_ms: 2,
      });
      return request_id;
    });
    await gw.flush();
    // Deleting the team revokes its keys: both are only marked, and keep their names.
    assert.equal((await gw.api('DELETE', `/api/teams/${gamma}`)).status, 200);
    const page: any[] = (await gw.api('GET', '/api/logs?from=2026-04-15T00:00:00Z&to=2026-04-16T00:00:00Z')).body.data;
    assert.deepEqual(page.map((r) => [r.request_id, r.key_name, r.user_name, r.team_name]), [
      [ids[2], 'gamma nobody', null, null],
      [ids[1], 'gamma ext', 'ext-only-7', 'Gamma'],
      [ids[0], 'gamma mail', 'mail.only@example.com', 'Gamma'],
    ]);
    const one = (await gw.api('GET', `/api/logs/${ids[0]}`)).body;
    assert.deepEqual([one.key_name, one.user_name, one.team_name], ['gamma mail', 'mail.only@example.com', 'Gamma']);
    const own = (await memberB.api('GET', '/api/logs?limit=1')).body.data[0];
    assert.deepEqual([own.key_name, own.user_name, own.team_name], ['member-b', 'member-b', 'Beta'], 'a member reads the names on their own rows');
  });
});
