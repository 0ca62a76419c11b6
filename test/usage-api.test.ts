// GET /api/usage and the spend endpoints on a real server, SQLite and PostgreSQL: traffic through
// the official openai SDK across two teams, three keys, two priced models, upstream failures and
// budget refusals, over two days of one month and a day of the next (test clock); the chargeback
// report (spend by team and model for last month) equals the request log summed the same way,
// exactly, as JSON and as CSV; each reader sees their scope; migration 0015's backfill; hourly rows.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { ADMIN_KEY, DIALECTS, dialectSkip, TestClock, type Gateway } from './support/gateway.ts';
import { call, CREDITS_MODEL, startPricedGateway } from './support/priced.ts';
import { sessionFor, signedInUser, type TestSession } from './support/sessions.ts';
import { openDb } from '../src/db/connection.ts';
import { migrate } from '../src/db/migrate.ts';
import { testPostgresUrl } from './support/services.ts';

const COUNTS = ['requests', 'errors', 'tokens_in', 'tokens_out', 'cached_tokens', 'reasoning_tokens', 'cost_micro', 'unpriced_requests'] as const;

/** A minimal RFC 4180 reader (quoted fields, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(cell), (cell = '');
    else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell), rows.push(row), (row = []), (cell = ''), i++;
    } else cell += c;
  }
  assert.equal(cell + row.join(''), '', 'the CSV ends with a line break');
  return rows;
}

for (const dialect of DIALECTS) describe(`usage API (${dialect})`, { skip: dialectSkip(dialect) }, () => {
  let gw: Gateway;
  const clock = new TestClock(Date.parse('2026-02-27T10:15:00Z'));
  let teamA: number;
  let teamB: number;
  let keyA1: number;
  let keyA2: number;
  let keyB1: number;
  let member: TestSession;
  let owner: TestSession;
  let viewer: TestSession;

  /** The request log summed per group, as usage rows are: the reference of every exactness check. */
  async function fromLogs(groupBy: Array<'team_id' | 'model' | 'key_id'>, from: string, to: string, where: (q: any) => any = (q) => q) {
    const db = gw.runtime.deps.db.kysely;
    let q = db.selectFrom('request_logs').select(groupBy).select([
      sql<number>`count(*)`.as('requests'),
      sql<number>`sum(case when status_code >= 400 then 1 else 0 end)`.as('errors'),
      sql<number>`sum(tokens_in)`.as('tokens_in'),
      sql<number>`sum(tokens_out)`.as('tokens_out'),
      sql<number>`sum(cached_tokens)`.as('cached_tokens'),
      sql<number>`sum(reasoning_tokens)`.as('reasoning_tokens'),
      sql<number>`sum(coalesce(cost_micro, 0))`.as('cost_micro'),
      sql<number>`sum(unpriced)`.as('unpriced_requests'),
    ]).where('created_at', '>=', from).where('created_at', '<', to);
    q = where(q);
    const rows = await (groupBy.length ? q.groupBy(groupBy) : q).execute();
    return rows.map((r: any) => Object.fromEntries([...groupBy.map((g) => [g, r[g] === null ? null : g === 'model' ? r[g] : Number(r[g])]), ...COUNTS.map((c) => [c, Number(r[c])])])).sort(byKey(groupBy));
  }
  const byKey = (cols: string[]) => (x: any, y: any) => (JSON.stringify(cols.map((c) => x[c])) < JSON.stringify(cols.map((c) => y[c])) ? -1 : 1);
  const pick = (rows: any[], cols: string[]) => rows.map((r) => Object.fromEntries([...cols, ...COUNTS].map((c) => [c, r[c]]))).sort(byKey(cols));

  before(async () => {
    gw = await startPricedGateway({ dialect, clock });
    // A name that needs CSV quoting, and a key name a spreadsheet would run as a formula.
    teamA = (await gw.api('POST', '/api/teams', { name: 'Research, "R&D"' })).body.id;
    teamB = (await gw.api('POST', '/api/teams', { name: 'Platform' })).body.id;
    member = await signedInUser(gw, 'member-a', 'member', { [teamA]: 'member' });
    owner = await signedInUser(gw, 'owner-a', 'member', { [teamA]: 'owner' });
    viewer = await signedInUser(gw, 'finance', 'viewer');
    const key = async (team: number, body: object) => {
      const r = await gw.api('POST', `/api/teams/${team}/keys`, body);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body as { id: number; key: string };
    };
    const a1 = await key(teamA, { name: 'a1', user_id: member.userId });
    const a2 = await key(teamA, { name: '=SUM(A1)' });
    // $10 budget: a second $6 request is refused (429, no provider: an error row, no spend)
    const b1 = await key(teamB, { name: 'b1', max_budget_usd: 10 });
    [keyA1, keyA2, keyB1] = [a1.id, a2.id, b1.id];
    const [ca1, ca2, cb1] = [gw.openai(a1.key), gw.openai(a2.key), gw.openai(b1.key)];
    const traffic = async () => {
      assert.equal(await call(ca1, 'gpt-4o-mini'), 200);
      assert.equal(await call(ca1, 'gpt-4o-mini', { max_tokens: 5 }), 200);
      assert.equal(await call(ca1, CREDITS_MODEL), 200);
      assert.equal(await call(ca2, CREDITS_MODEL), 200);
      assert.equal(await call(ca2, 'error-500'), 502);
      await ca2.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'stream' }], stream: true, stream_options: { include_usage: true } }).then(async (s) => { for await (const _ of s) { /* drain */ } });
    };
    await traffic(); // Feb 27
    assert.equal(await call(cb1, CREDITS_MODEL), 200);
    assert.equal(await call(cb1, CREDITS_MODEL), 429);
    clock.set('2026-02-28T23:59:30Z');
    await traffic(); // Feb 28, the month's last minute
    clock.set('2026-03-02T08:20:00Z');
    await traffic(); // this month
    assert.equal(await call(cb1, 'gpt-4o-mini'), 200);
    await gw.flush();
    // Sessions signed in now: the ones made before the clock moved have idled out.
    [member, owner, viewer] = [await sessionFor(gw, member.userId), await sessionFor(gw, owner.userId), await sessionFor(gw, viewer.userId)];
  });
  after(() => gw?.close());

  test('chargeback: last month by team and model equals the request log summed the same way, exactly (JSON)', async () => {
    const r = await gw.api('GET', '/api/usage?group_by=team,model&from=2026-02-01&to=2026-02-28');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.from, '2026-02-01T00:00:00.000Z');
    assert.equal(r.body.to, '2026-03-01T00:00:00.000Z');
    assert.deepEqual(r.body.group_by, ['team', 'model']);
    const expected = await fromLogs(['team_id', 'model'], '2026-02-01', '2026-03-01');
    assert.ok(expected.length >= 4, 'two teams, several models');
    assert.deepEqual(pick(r.body.data, ['team_id', 'model']), expected);
    for (const row of r.body.data) assert.equal(row.cost_usd, row.cost_micro / 1e6);
    assert.equal(r.body.data.find((x: any) => x.team_id === teamA).team_name, 'Research, "R&D"');
    const sum = (c: string) => expected.reduce((s, x) => s + x[c], 0);
    for (const c of COUNTS) assert.equal(r.body.totals[c], sum(c), c);
    assert.ok(r.body.totals.errors >= 3, 'upstream failures and a budget refusal are errors');
    assert.ok(r.body.totals.cost_micro > 30_000_000);
    assert.equal(r.body.next_cursor, null);
  });

  test('the same report as CSV: header, quoting, exact decimal cost, attachment', async () => {
    const res = await fetch(`${gw.url}/api/usage?group_by=team,model&from=2026-02-01&to=2026-02-28&format=csv`, { headers: { 'x-admin-key': ADMIN_KEY } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/csv/);
    assert.equal(res.headers.get('content-disposition'), 'attachment; filename="tollgate-usage-2026-02-01-2026-03-01.csv"');
    const [header, ...lines] = parseCsv(await res.text());
    assert.deepEqual(header, ['team_id', 'team_name', 'model', 'requests', 'errors', 'tokens_in', 'tokens_out', 'cached_tokens', 'reasoning_tokens', 'cost_usd', 'cost_micro', 'unpriced_requests']);
    const rows = lines.map((l) => Object.fromEntries(header!.map((h, i) => [h, l[i]])));
    const asRows = rows.map((r) => ({ ...Object.fromEntries(COUNTS.map((c) => [c, Number(r[c])])), team_id: r.team_id === '' ? null : Number(r.team_id), model: r.model }));
    assert.deepEqual(pick(asRows, ['team_id', 'model']), await fromLogs(['team_id', 'model'], '2026-02-01', '2026-03-01'));
    for (const r of rows) assert.equal(r.cost_usd, `${Math.floor(Number(r.cost_micro) / 1e6)}.${String(Number(r.cost_micro) % 1e6).padStart(6, '0')}`);
    assert.equal(rows.find((r) => Number(r.team_id) === teamA)!.team_name, 'Research, "R&D"');
    const keys = parseCsv(await (await fetch(`${gw.url}/api/usage?group_by=key&format=csv&from=2026-02-01`, { headers: { 'x-admin-key': ADMIN_KEY } })).text());
    assert.ok(keys.some((l) => l.includes("'=SUM(A1)")), 'a formula-like name is defused');
  });

  test('every grouping: by key and day, by provider, filtered by model; pages by cursor add up to the totals', async () => {
    const r = await gw.api('GET', '/api/usage?group_by=key,day&from=2026-02-01&to=2026-03-31');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.data.map((x: any) => x.day), [...r.body.data.map((x: any) => x.day)].sort());
    const keyDays = (await fromLogs(['key_id'], '2026-02-27', '2026-02-28')).map((x) => x.key_id).sort();
    assert.deepEqual(r.body.data.filter((x: any) => x.day === '2026-02-27').map((x: any) => x.key_id).sort(), keyDays);
    assert.equal(r.body.data.find((x: any) => x.key_id === keyA1).key_name, 'a1');
    assert.match(r.body.data.find((x: any) => x.key_id === keyA1).key_prefix, /^sk-tg-/);
    // pages of 2 rows: the same rows, in order, then the end
    let cursor: string | null = null;
    const paged: any[] = [];
    do {
      const p: any = await gw.api('GET', `/api/usage?group_by=key,day&from=2026-02-01&to=2026-03-31&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(p.status, 200);
      assert.ok(p.body.data.length <= 2);
      paged.push(...p.body.data);
      cursor = p.body.next_cursor;
    } while (cursor);
    assert.deepEqual(paged, r.body.data);
    // the same at the team and organization levels (pages walk their primary key from the cursor)
    for (const groupBy of ['team,model', 'model', 'team,model,day', 'provider,hour']) {
      const range = groupBy.includes('hour') ? 'from=2026-02-28T00:00:00Z&to=2026-03-02T12:00:00Z' : 'from=2026-02-01&to=2026-03-31';
      const whole = await gw.api('GET', `/api/usage?group_by=${groupBy}&${range}`);
      assert.equal(whole.status, 200, JSON.stringify(whole.body));
      const rows: any[] = [];
      let next: string | null = null;
      do {
        const p: any = await gw.api('GET', `/api/usage?group_by=${groupBy}&${range}&limit=1${next ? `&cursor=${next}` : ''}`);
        rows.push(...p.body.data);
        next = p.body.next_cursor;
      } while (next);
      assert.deepEqual(rows, whole.body.data, groupBy);
      assert.ok(rows.length >= 2, groupBy);
    }
    const providers = await gw.api('GET', '/api/usage?group_by=provider&from=2026-02-01&to=2026-03-31');
    assert.deepEqual(providers.body.data.map((x: any) => x.provider).sort((a: any, b: any) => String(a).localeCompare(String(b))), ['openai', null].sort((a, b) => String(a).localeCompare(String(b))));
    const mini = await gw.api('GET', `/api/usage?group_by=team&model=gpt-4o-mini&from=2026-02-01&to=2026-03-31`);
    assert.deepEqual(pick(mini.body.data, ['team_id']), await fromLogs(['team_id'], '2026-02-01', '2026-04-01', (q) => q.where('model', '=', 'gpt-4o-mini')));
    // default range: this month (March 2026 on the test clock)
    const month = await gw.api('GET', '/api/usage?group_by=model');
    assert.equal(month.body.from, '2026-03-01T00:00:00.000Z');
    assert.deepEqual(pick(month.body.data, ['model']), await fromLogs(['model'], '2026-03-01', '2026-03-03'));
  });

  test('hourly: rows per hour for the last days; a range before the hourly days is refused naming from', async () => {
    const r = await gw.api('GET', '/api/usage?group_by=hour,team&from=2026-02-28T23:00:00Z&to=2026-03-02T09:00:00Z');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([...new Set(r.body.data.map((x: any) => x.hour))], ['2026-02-28T23:00:00Z', '2026-03-02T08:00:00Z']);
    assert.deepEqual(pick(r.body.data.filter((x: any) => x.hour.startsWith('2026-03-02')), ['team_id']), await fromLogs(['team_id'], '2026-03-02T08', '2026-03-02T09'));
    const old = await gw.api('GET', '/api/usage?group_by=hour&from=2026-02-01T00:00:00Z&to=2026-02-02T00:00:00Z');
    assert.equal(old.status, 400);
    assert.equal(old.body.error.param, 'query.from');
    const odd = await gw.api('GET', '/api/usage?from=2026-03-02T08:30:00Z');
    assert.equal(odd.body.error.param, 'query.from');
    for (const [q, param] of [['group_by=team,day,hour', 'query.group_by'], ['group_by=colour', 'query.group_by'], ['from=yesterday', 'query.from'], ['from=2026-03-02&to=2026-03-01', 'query.to'], ['team_id=x', 'query.team_id'], ['cursor=abc', 'query.cursor'], ['format=xml', 'query.format'], ['colour=red', 'query.colour']]) {
      const bad = await gw.api('GET', `/api/usage?${q}`);
      assert.equal(bad.status, 400, q);
      assert.equal(bad.body.error.param, param, q);
    }
  });

  test('scope: a member sees their own keys, an owner their team, a viewer all, another organization nothing', async () => {
    const q = '/api/usage?group_by=key&from=2026-02-01&to=2026-03-31';
    const keysOf = (r: any) => r.body.data.map((x: any) => x.key_id).sort();
    assert.deepEqual(keysOf(await member.api('GET', q)), [keyA1]);
    assert.deepEqual(keysOf(await owner.api('GET', q)), [keyA1, keyA2].sort());
    assert.deepEqual(keysOf(await viewer.api('GET', q)), [keyA1, keyA2, keyB1].sort());
    // a filter outside the scope is empty, not someone else's
    const outside = await member.api('GET', `/api/usage?team_id=${teamB}&from=2026-02-01&to=2026-03-31`);
    assert.equal(outside.status, 200);
    assert.equal(outside.body.totals.requests, 0);
    const mine = await member.api('GET', '/api/usage?group_by=team&from=2026-02-01&to=2026-03-31');
    assert.deepEqual(pick(mine.body.data, ['team_id']), await fromLogs(['team_id'], '2026-02-01', '2026-04-01', (x) => x.where('key_id', '=', keyA1)));
    const other = await gw.api('POST', '/api/orgs', { name: 'Elsewhere' });
    const elsewhere = await gw.api('GET', q, undefined, other.body.admin_key);
    assert.equal(elsewhere.status, 200);
    assert.deepEqual(elsewhere.body.data, []);
    assert.equal(elsewhere.body.totals.requests, 0);
    const csv = await fetch(`${gw.url}${q}&format=csv`, { headers: { cookie: member.cookie } });
    assert.equal(parseCsv(await csv.text()).length, 2, 'header and the member’s one key');
  });

  test('top N: order=cost|requests|tokens ranks groups largest first, limit keeps N, totals stay the whole selection', async () => {
    const range = 'from=2026-02-01&to=2026-03-31';
    const all = await gw.api('GET', `/api/usage?group_by=key&${range}`);
    assert.equal(all.status, 200, JSON.stringify(all.body));
    assert.equal(all.body.order, null);
    const measure = { cost: (r: any) => r.cost_micro, requests: (r: any) => r.requests, tokens: (r: any) => r.tokens_in + r.tokens_out };
    for (const [order, value] of Object.entries(measure)) {
      const expected = [...all.body.data].sort((a, b) => value(b) - value(a) || a.key_id - b.key_id);
      assert.ok(value(expected[0]) > value(expected.at(-1)), `${order}: the keys differ`);
      const top = await gw.api('GET', `/api/usage?group_by=key&${range}&order=${order}&limit=2`);
      assert.equal(top.status, 200, JSON.stringify(top.body));
      assert.equal(top.body.order, order);
      assert.deepEqual(top.body.data, expected.slice(0, 2), order);
      assert.deepEqual(top.body.totals, all.body.totals, `${order}: totals of every key, not the top 2`);
      assert.equal(top.body.next_cursor, null);
    }
    // several dimensions and a time grain: (key, day) groups ranked, across days
    const keyDays = await gw.api('GET', `/api/usage?group_by=team,model,day&${range}&order=cost&limit=3`);
    const every = await gw.api('GET', `/api/usage?group_by=team,model,day&${range}`);
    assert.deepEqual(keyDays.body.data.map((r: any) => r.cost_micro), every.body.data.map((r: any) => r.cost_micro).sort((a: number, b: number) => b - a).slice(0, 3));
    // the organization level (by model: org_day rows) and the team_month level (a whole month)
    const models = await gw.api('GET', '/api/usage?group_by=model&from=2026-02-01&to=2026-02-28&order=requests&limit=1');
    const byModel = await fromLogs(['model'], '2026-02-01', '2026-03-01');
    assert.equal(models.body.data[0].requests, Math.max(...byModel.map((r) => r.requests)));
    const teams = await gw.api('GET', '/api/usage?group_by=team&from=2026-02-01&to=2026-02-28&order=cost&limit=1');
    const byTeam = await fromLogs(['team_id'], '2026-02-01', '2026-03-01');
    assert.deepEqual(pick(teams.body.data, ['team_id']), [byTeam.sort((a, b) => b.cost_micro - a.cost_micro)[0]]);
    // CSV: the same top rows, in the same order
    const csv = parseCsv(await (await fetch(`${gw.url}/api/usage?group_by=key&${range}&order=cost&limit=2&format=csv`, { headers: { 'x-admin-key': ADMIN_KEY } })).text());
    const top2 = (await gw.api('GET', `/api/usage?group_by=key&${range}&order=cost&limit=2`)).body.data;
    assert.deepEqual(csv.slice(1).map((l) => Number(l[0])), top2.map((r: any) => r.key_id));
  });

  test('top N keeps each reader to their scope; bad order, limit and cursor are refused naming the parameter', async () => {
    const q = '/api/usage?group_by=key&from=2026-02-01&to=2026-03-31';
    const keysOf = (r: any) => r.body.data.map((x: any) => x.key_id);
    const mine = await member.api('GET', `${q}&order=cost&limit=10`);
    assert.equal(mine.status, 200, JSON.stringify(mine.body));
    assert.deepEqual(keysOf(mine), [keyA1]);
    assert.deepEqual(mine.body.totals, (await member.api('GET', q)).body.totals);
    const team = await owner.api('GET', `${q}&order=cost&limit=10`);
    assert.deepEqual(keysOf(team).sort(), [keyA1, keyA2].sort());
    assert.ok(team.body.data[0].cost_micro >= team.body.data[1].cost_micro);
    const outside = await member.api('GET', `${q}&order=cost&team_id=${teamB}`);
    assert.deepEqual(outside.body.data, []);
    const csv = await fetch(`${gw.url}${q}&order=tokens&limit=5&format=csv`, { headers: { cookie: member.cookie } });
    assert.equal(parseCsv(await csv.text()).length, 2, 'header and the member’s one key');
    for (const [bad, param] of [['order=price', 'query.order'], ['order=cost&limit=1001', 'query.limit'], ['order=cost&cursor=abc', 'query.cursor'], ['order=cost&limit=0', 'query.limit']]) {
      const r = await gw.api('GET', `${q}&${bad}`);
      assert.equal(r.status, 400, bad);
      assert.equal(r.body.error.param, param, bad);
    }
  });

  test('spend: the organization (today, this month, last month), a key, my keys per team', async () => {
    const cost = async (from: string, to: string, where: (q: any) => any = (q) => q) => {
      const rows = await fromLogs([], from, to, (q) => where(q).where('provider', 'is not', null));
      return { requests: rows[0]!.requests, cost_usd: rows[0]!.cost_micro / 1e6 };
    };
    const org = await viewer.api('GET', '/api/orgs/current/spend');
    assert.equal(org.status, 200, JSON.stringify(org.body));
    const fig = (f: any) => ({ requests: f.requests, cost_usd: f.cost_usd });
    assert.deepEqual(fig(org.body.last_month), await cost('2026-02-01', '2026-03-01'));
    assert.deepEqual(fig(org.body.this_month), await cost('2026-03-01', '2026-04-01'));
    assert.deepEqual(fig(org.body.today), await cost('2026-03-02', '2026-03-03'));
    assert.deepEqual(fig(org.body.total), await cost('2026-01-01', '2026-04-01'));
    assert.equal((await member.api('GET', '/api/orgs/current/spend')).status, 403);
    const key = await owner.api('GET', `/api/keys/${keyA2}/spend`);
    assert.equal(key.status, 200, JSON.stringify(key.body));
    assert.deepEqual(fig(key.body.last_month), await cost('2026-02-01', '2026-03-01', (q) => q.where('key_id', '=', keyA2)));
    assert.equal((await member.api('GET', `/api/keys/${keyA2}/spend`)).status, 403);
    const me = await member.api('GET', '/api/me/spend');
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.deepEqual(fig(me.body.total), await cost('2026-01-01', '2026-04-01', (q) => q.where('key_id', '=', keyA1)));
    assert.deepEqual(me.body.teams.map((t: any) => t.team_id), [teamA]);
    assert.equal((await gw.api('GET', '/api/me/spend')).status, 400);
  });

  test('hourly rows older than the hourly days are pruned by the flush; day rows stay', async () => {
    const db = gw.runtime.deps.db.kysely;
    const hours = () => db.selectFrom('usage_rollups').select('bucket').where('level', '=', 'key_hour').where('bucket', '<', '2026-03').execute();
    assert.ok((await hours()).length > 0);
    clock.set('2026-03-09T12:00:00Z');
    const key = await gw.api('POST', `/api/teams/${teamB}/keys`, { name: 'late' });
    assert.equal(await call(gw.openai(key.body.key), 'gpt-4o-mini'), 200);
    await gw.flush();
    assert.deepEqual(await hours(), []);
    const days = await gw.api('GET', '/api/usage?group_by=team,model&from=2026-02-01&to=2026-02-28');
    assert.deepEqual(pick(days.body.data, ['team_id', 'model']), await fromLogs(['team_id', 'model'], '2026-02-01', '2026-03-01'));
  });
});

for (const dialect of DIALECTS) describe(`migration 0015 (${dialect})`, { skip: dialectSkip(dialect) }, () => {
  test('fills every level from the request log already there', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tollgate-0015-'));
    const db = openDb(dialect === 'sqlite' ? `sqlite:${path.join(dir, 't.db')}` : (await testPostgresUrl())!);
    try {
      await migrate(db, '0014_request_log_detail');
      const recent = new Date(Date.now() - 3_600_000).toISOString();
      const log = (created_at: string, key_id: number, team_id: number | null, model: string, provider: string | null, status_code: number, cost_micro: number | null) => ({
        request_id: `r${Math.random()}`, created_at, org_id: 1, team_id, user_id: null, key_id, endpoint: 'chat/completions', model, provider, status_code,
        tokens_in: 10, tokens_out: 5, cached_tokens: 2, reasoning_tokens: 1, cost_micro, streamed: 0, usage_estimated: 0, latency_ms: 1, unpriced: cost_micro === null && provider !== null ? 1 : 0,
      });
      await db.kysely.insertInto('request_logs').values([
        log('2026-01-31T23:00:00.000Z', 1, 7, 'a', 'openai', 200, 100),
        log('2026-02-01T01:00:00.000Z', 1, 7, 'a', 'openai', 200, 50),
        log('2026-02-01T02:00:00.000Z', 2, 7, 'a', 'openai', 502, 0),
        log('2026-02-01T02:00:00.000Z', 3, null, 'b', null, 429, null),
        log(recent, 1, 7, 'a', 'openai', 200, 1),
      ]).execute();
      assert.deepEqual(await migrate(db, '0015_usage_rollups'), ['0015_usage_rollups']);
      const level = async (l: string) => (await db.kysely.selectFrom('usage_rollups').select(['bucket', 'team_id', 'key_id', 'model', 'provider', 'requests', 'errors', 'cost_micro', 'cached_tokens', 'unpriced_requests']).where('level', '=', l).orderBy('bucket').orderBy('key_id').orderBy('model').execute())
        .map((r) => [r.bucket, r.team_id, r.key_id, r.model, r.provider, Number(r.requests), Number(r.errors), Number(r.cost_micro), Number(r.cached_tokens), Number(r.unpriced_requests)]);
      assert.deepEqual((await level('team_month')).slice(0, 3), [['2026-01', 7, 0, 'a', 'openai', 1, 0, 100, 2, 0], ['2026-02', 7, 0, 'a', 'openai', 2, 1, 50, 4, 0], ['2026-02', 0, 0, 'b', '', 1, 1, 0, 2, 0]]);
      assert.deepEqual((await level('key_day')).filter((r) => r[0] === '2026-02-01'), [['2026-02-01', 7, 1, 'a', 'openai', 1, 0, 50, 2, 0], ['2026-02-01', 7, 2, 'a', 'openai', 1, 1, 0, 2, 0], ['2026-02-01', 0, 3, 'b', '', 1, 1, 0, 2, 0]]);
      assert.equal((await level('org_day')).length, 4);
      // hourly levels: only the recent row (older hours are not kept)
      assert.deepEqual((await level('key_hour')).map((r) => r[0]), [recent.slice(0, 13)]);
      assert.deepEqual((await level('org_hour')).map((r) => r[0]), [recent.slice(0, 13)]);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
