// What every cell of the fault matrix must hold once its load is over (test/fault-matrix-*.test.ts):
//   - every request the client got an answer for is in request_logs exactly once (x-request-id =
//     request_id), with the status and error the client saw, and the cost of what was metered;
//   - what was metered is what the upstream reported, or, flagged as estimated, no more than it
//     sent and no less than the client received;
//   - spend_rollups equal the sum of the logged rows; the budget counter equals the rollups;
//   - reservations and concurrency slots are released at every level; no hard budget is overshot.
// Problems are collected rather than thrown, counted by kind, so a red cell says everything wrong
// with it at once.
import Database from 'better-sqlite3';
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { costMicro } from '../../src/usage/pricing.ts';
import type { FaultUpstream } from './fault-upstream.ts';
import { drive, MARGIN_MS, PRICE, TIMEOUTS, type Outcome, type Shot } from './fault-load.ts';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { Gateway } from './gateway.ts';

export interface LogRow {
  request_id: string; key_id: number; model: string; status_code: number; error_code: string | null; provider: string | null;
  streamed: number; tokens_in: number; tokens_out: number; cost_micro: number | null; usage_estimated: number;
}
export interface Totals { requests: number; tokens_in: number; tokens_out: number; cost_micro: number }

export interface LogStore {
  rows(keyIds: number[]): Promise<LogRow[]>;
  rollup(keyIds: number[]): Promise<Totals>;
}

const ROWS = 'select request_id, key_id, model, status_code, latency_ms, error_code, provider, streamed, tokens_in, tokens_out, cost_micro, usage_estimated from request_logs where key_id in';
const ROLLUP = 'select coalesce(sum(requests), 0) as requests, coalesce(sum(tokens_in), 0) as tokens_in, coalesce(sum(tokens_out), 0) as tokens_out, coalesce(sum(cost_micro), 0) as cost_micro from spend_rollups where key_id in';

/** Reads a Tollgate database from the outside (its own connection per read: it survives restarts). */
export function openLogStore(databaseUrl: string): LogStore {
  const numeric = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^(tokens|cost|requests|status|key|streamed|usage)/.test(k) ? Number(v) : v]));
  let query: (text: string, ids: number[]) => Promise<Array<Record<string, unknown>>>;
  if (databaseUrl.startsWith('sqlite:')) {
    const file = databaseUrl.slice('sqlite:'.length);
    query = async (text, ids) => {
      const db = new Database(file, { readonly: true, fileMustExist: true });
      try { return db.prepare(`${text} (${ids.map(() => '?').join(', ')})`).all(...ids) as Array<Record<string, unknown>>; } finally { db.close(); }
    };
  } else {
    query = async (text, ids) => {
      const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 2000 });
      client.on('error', () => {}); // a server restarting under us: the query fails, the test retries
      await client.connect();
      try { return (await client.query(`${text} (${ids.map((_, i) => `$${i + 1}`).join(', ')})`, ids)).rows; } finally { await client.end().catch(() => {}); }
    };
  }
  return {
    rows: async (ids) => (await query(ROWS, ids)).map((r) => numeric(r) as unknown as LogRow),
    rollup: async (ids) => numeric((await query(ROLLUP, ids))[0]!) as unknown as Totals,
  };
}

export type Api = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;

export interface CellKey { teamId: number; keyId: number; secret: string; capMicro: number }

/** A team and a key with a hard total budget and a concurrency limit on both (every level is checked). */
export async function cellKey(api: Api, name: string, budgetUsd: number, maxParallel: number): Promise<CellKey> {
  const team = await api('POST', '/api/teams', { name: `${name} ${Date.now()}` });
  if (team.status !== 201) throw new Error(`team: ${team.status} ${JSON.stringify(team.body)}`);
  const teamLimits = await api('PUT', `/api/teams/${team.body.id}/limits`, { max_parallel_requests: maxParallel * 4, max_budget_usd: 1000, budget_period: 'total' });
  if (teamLimits.status !== 200) throw new Error(`team limits: ${teamLimits.status} ${JSON.stringify(teamLimits.body)}`);
  const key = await api('POST', `/api/teams/${team.body.id}/keys`, { name: 'fault matrix' });
  if (key.status !== 201) throw new Error(`key: ${key.status} ${JSON.stringify(key.body)}`);
  const limits = await api('PUT', `/api/keys/${key.body.id}/limits`, { max_parallel_requests: maxParallel, max_budget_usd: budgetUsd, budget_period: 'total', budget_mode: 'hard' });
  if (limits.status !== 200) throw new Error(`key limits: ${limits.status} ${JSON.stringify(limits.body)}`);
  return { teamId: team.body.id, keyId: key.body.id, secret: key.body.key, capMicro: Math.round(budgetUsd * 1e6) };
}

/**
 * Problems counted by kind, each with its first example, in two areas: what was answered, logged
 * and spent ('requests'), and whether the counters let go afterwards ('counters': slots,
 * reservations, the budget counter against the rollups).
 */
export class Problems {
  private readonly kinds = new Map<string, { area: Area; count: number; example: string }>();
  add(kind: string, example = '', area: Area = 'requests'): void {
    const k = this.kinds.get(kind);
    if (k) k.count++;
    else this.kinds.set(kind, { area, count: 1, example });
  }
  list(area?: Area): string[] {
    return [...this.kinds].filter(([, k]) => area === undefined || k.area === area)
      .map(([kind, { count, example }]) => `${count}× ${kind}${example ? ` (e.g. ${example})` : ''}`);
  }
}
export type Area = 'requests' | 'counters';

export interface Expect {
  /**
   * Tollgate was killed under this load: a request whose client got no answer (its connection
   * broke) may be logged once or not at all; one that was answered must still be logged.
   */
  crash?: boolean;
  /**
   * after a crash: how many requests the shared counter may have settled that the log never got
   * (applied by Redis, the process killed before its log row was written; the client got no answer)
   */
  crashLagRequests?: number;
  /**
   * after a crash in cluster mode: the budget reservations the killed process held (its ledger in
   * Redis), which the release charged as spend — its requests in flight, and the settlements it had
   * not sent yet, whose rows are logged at their actual cost
   */
  crashHeldMicro?: number;
  /** cell-specific expectation for a request with a response head: a problem, or undefined */
  each?(o: Outcome, row: LogRow): string | undefined;
  /** for rows no client has the request id of (it left before the response head) */
  unmatched?(row: LogRow): string | undefined;
}

/** The log's error code is the client's, or a more precise upstream_* one (upstream_503, upstream_malformed). */
const sameError = (client: string | undefined, logged: string | null) =>
  client === logged || (client === 'upstream_error' && /^upstream_/.test(logged ?? ''));

export function checkRequests(p: Problems, outcomes: Outcome[], rows: LogRow[], fault: FaultUpstream, expect: Expect = {}): void {
  const byId = new Map<string, LogRow[]>();
  for (const r of rows) byId.set(r.request_id, [...(byId.get(r.request_id) ?? []), r]);
  let headless = 0;
  for (const o of outcomes) {
    const add = (kind: string) => p.add(kind, `${o.marker} ${o.shot.model} ${o.shot.client}`);
    const cutByCrash = expect.crash === true && !o.answered && o.failure !== undefined;
    if (o.hung) add(`no answer before the client's deadline`);
    else if (o.failure && !cutByCrash) add(`client error: ${o.failure.slice(0, 160)}`);
    if (!o.requestId) {
      headless++;
      continue;
    }
    const matched = byId.get(o.requestId) ?? [];
    if (cutByCrash) {
      if (matched.length > 1) add(`cut by the crash, and logged ${matched.length} times`);
      continue;
    }
    if (matched.length !== 1) {
      add(`logged ${matched.length} times, not exactly once`);
      if (matched.length === 0) continue;
    }
    const row = matched[0]!;
    const logged = `logged ${row.status_code} ${row.error_code}`;
    if (o.status !== undefined && o.status >= 400) {
      if (row.status_code !== o.status || !sameError(o.errorCode, row.error_code)) add(`answered ${o.status} ${o.errorCode} but ${logged}`);
    } else if (o.aborted || o.shot.client === 'stop-reading') {
      if (!/^client_/.test(row.error_code ?? '')) add(`client left, but ${logged}`);
    } else if (!o.stream) {
      if (o.malformed) add(`answered ${o.status} with a body that is not JSON (${logged})`);
      else if (o.answered && (row.status_code !== 200 || row.error_code !== null)) add(`answered 200 but ${logged}`);
      else if (o.usage && (o.usage.prompt_tokens !== row.tokens_in || o.usage.completion_tokens !== row.tokens_out)) add('the client saw other usage than was logged');
    } else if (o.streamError) {
      if (row.status_code < 500 || !sameError(o.errorCode, row.error_code)) add(`stream ended with error event ${o.errorCode} but ${logged}`);
    } else if (o.answered && !o.finished) {
      add(`stream ended with neither [DONE] nor an error event: silently truncated (${logged})`);
    } else if (o.finished && (row.status_code !== 200 || row.error_code !== null)) {
      add(`stream finished but ${logged}`);
    }
    checkMetering(add, row, fault.call(o.marker), o);
    const extra = expect.each?.(o, row);
    if (extra) add(extra);
  }
  const answeredIds = new Set(outcomes.map((o) => o.requestId));
  const unmatched = rows.filter((r) => !answeredIds.has(r.request_id));
  for (const row of unmatched) {
    const add = (kind: string) => p.add(kind, `request ${row.request_id}`);
    checkMetering(add, row, undefined, undefined);
    const extra = expect.unmatched?.(row);
    if (extra) add(extra);
  }
  const allLogged = !expect.crash;
  if (allLogged ? unmatched.length !== headless : unmatched.length > headless) {
    p.add(`${unmatched.length} logged requests whose client got no response head, but ${headless} such requests were made`);
  }
}

/** Cost is the price of what was metered; metered is what the upstream reported, or a flagged estimate. */
function checkMetering(add: (kind: string) => void, row: LogRow, call: ReturnType<FaultUpstream['call']>, o: Outcome | undefined): void {
  if (row.provider === null) {
    if (row.cost_micro !== null) add('a request Tollgate answered itself has a cost');
    return;
  }
  if (row.cost_micro !== costMicro(PRICE, row.tokens_in, row.tokens_out)) add(`cost ${row.cost_micro} is not the price of ${row.tokens_in} in + ${row.tokens_out} out`);
  if (!call) return;
  const reported = call.usage;
  if (!row.usage_estimated) {
    if (reported && (row.tokens_in !== reported.prompt_tokens || row.tokens_out !== reported.completion_tokens)) add(`metered ${row.tokens_in}/${row.tokens_out} as exact, the upstream reported ${reported.prompt_tokens}/${reported.completion_tokens}`);
    if (!reported && (row.tokens_in > 0 || row.tokens_out > 0)) add('metered as exact, but the upstream reported no usage');
    return;
  }
  // A request that failed or lost its client may have stopped reading just before the usage arrived.
  if (reported && call.finished && !call.closedByPeer && row.error_code === null) add('estimated, though the upstream sent its usage in full');
  if (row.tokens_out > call.contentEvents) add(`estimated ${row.tokens_out} output tokens, more than the ${call.contentEvents} the upstream sent`);
  if (o && row.tokens_out < o.contentEvents) add(`estimated ${row.tokens_out} output tokens, fewer than the ${o.contentEvents} the client received`);
}

/** The rollups hold exactly the logged rows that reached a provider (the others are not spend). */
export function checkRollups(p: Problems, rows: LogRow[], totals: Totals): void {
  const spent = rows.filter((r) => r.provider !== null);
  const sum = (f: (r: LogRow) => number) => spent.reduce((n, r) => n + f(r), 0);
  const fromLogs = { requests: spent.length, tokens_in: sum((r) => r.tokens_in), tokens_out: sum((r) => r.tokens_out), cost_micro: sum((r) => r.cost_micro ?? 0) };
  for (const k of Object.keys(fromLogs) as Array<keyof Totals>) {
    if (fromLogs[k] !== totals[k]) p.add(`spend_rollups.${k} is ${totals[k]}, the logs add up to ${fromLogs[k]}`);
  }
}

/** Polls the key's limits until no level holds a request in flight or a reservation; returns the levels. */
export async function awaitReleased(p: Problems, api: Api, key: CellKey, deadlineMs = TIMEOUTS.TOLLGATE_UPSTREAM_TIMEOUT_MS + MARGIN_MS): Promise<any[]> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const res = await api('GET', `/api/keys/${key.keyId}/limits`).catch((err: Error) => ({ status: 0, body: { error: err.message } }));
    const layers: any[] = res.status === 200 ? res.body.layers : [];
    const held = res.status !== 200 ? [`limits unreadable: ${res.status} ${JSON.stringify(res.body)}`] : layers.flatMap((l) => [
      ...(l.concurrency && l.concurrency.in_flight !== 0 ? [`${l.level}: ${l.concurrency.in_flight} in flight`] : []),
      ...(l.budget && l.budget.reserved_usd !== 0 ? [`${l.level}: $${l.budget.reserved_usd} reserved`] : []),
    ]);
    if (held.length === 0) return layers;
    if (Date.now() > deadline) {
      for (const h of held) p.add(`not released ${deadlineMs} ms after the load: ${h}`, '', 'counters');
      return layers;
    }
    await sleep(100);
  }
}

/**
 * The hard cap holds, and the key's budget counter agrees with the rollups. After a crash in
 * cluster mode the Redis counter may be AHEAD by what the dead process settled in its last instant
 * and never logged (a settlement beyond its reservation is applied before its log row is written),
 * and by the reservations it held, charged when it was released (docs/production.md, "Crashes");
 * `aheadMicro` bounds that. Behind is never allowed: that is what would let the cap be overshot.
 */
export function checkBudget(p: Problems, layers: any[], key: CellKey, totals: Totals, aheadMicro = 0): void {
  if (totals.cost_micro > key.capMicro) p.add(`hard budget overshot: ${totals.cost_micro} µ$ spent of ${key.capMicro}`);
  const budget = layers.find((l) => l.level === 'key')?.budget;
  if (!budget) return p.add('the key shows no budget', '', 'counters');
  const counted = Math.round(budget.spent_usd * 1e6);
  const ahead = counted - totals.cost_micro;
  if (ahead < 0 || ahead > aheadMicro) p.add(`the key's budget counter says ${counted} µ$ spent, the rollups ${totals.cost_micro}${aheadMicro ? ` (up to ${aheadMicro} µ$ ahead is allowed after a crash)` : ''}`, '', 'counters');
}

/**
 * Polls until every request id is in the log and there are at least `minRows` rows (a crash's
 * journal replayed, a queue flushed), or until the deadline; returns what is there.
 */
export async function awaitLogged(store: LogStore, keyIds: number[], requestIds: Array<string | undefined>, minRows = 0, deadlineMs = 10_000): Promise<LogRow[]> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const rows = await store.rows(keyIds).catch(() => undefined);
    if (rows) {
      const have = new Set(rows.map((r) => r.request_id));
      const all = requestIds.every((id) => id === undefined || have.has(id)) && rows.length >= minRows;
      if (all || Date.now() > deadline) return rows;
    } else if (Date.now() > deadline) {
      throw new Error('the log store stayed unreadable');
    }
    await sleep(100);
  }
}

/** Every upstream request of the load has ended: Tollgate let go of each connection it opened. */
async function awaitUpstreamReleased(p: Problems, fault: FaultUpstream, outcomes: Outcome[], deadlineMs = 5000): Promise<void> {
  const calls = outcomes.map((o) => fault.call(o.marker)).filter((c) => c !== undefined);
  const timer = sleep(deadlineMs, 'timeout' as const, { ref: false });
  if ((await Promise.race([Promise.all(calls.map((c) => c.ended)), timer])) !== 'timeout') return;
  const open = calls.filter((c) => !c.finished && !c.closedByPeer && c.cut !== 'reset' && c.cut !== 'eof');
  if (open.length) p.add(`upstream requests still open ${deadlineMs} ms after the load`, `${open.length}, e.g. ${open[0]!.marker} ${open[0]!.model}`);
}

export interface CellRun {
  api: Api;
  store: LogStore;
  /** in-process gateways: write the queued log rows now rather than at the next flush */
  flush?: () => Promise<void>;
  fault: FaultUpstream;
  key: CellKey;
  outcomes: Outcome[];
  expect?: Expect;
}

/**
 * Everything a cell must hold once its load is over: the problems found, by kind (all of them, and
 * by area), and what was logged.
 */
export async function verifyCell(run: CellRun): Promise<{ problems: string[]; areas: Record<Area, string[]>; summary: string }> {
  const p = new Problems();
  await awaitUpstreamReleased(p, run.fault, run.outcomes);
  const layers = await awaitReleased(p, run.api, run.key);
  await run.flush?.();
  const allLogged = !run.expect?.crash;
  const ids = run.outcomes.filter((o) => !o.hung && (allLogged || o.answered)).map((o) => o.requestId);
  const rows = await awaitLogged(run.store, [run.key.keyId], ids, allLogged ? run.outcomes.length : 0);
  const totals = await run.store.rollup([run.key.keyId]);
  checkRequests(p, run.outcomes, rows, run.fault, run.expect);
  checkRollups(p, rows, totals);
  // A crash can leave settled requests unlogged (at most one per request in flight at the kill), and
  // charges the reservations the dead process held.
  const aheadMicro = run.expect?.crash ? (run.expect.crashLagRequests ?? 0) * Math.max(0, ...rows.map((r) => Number(r.cost_micro ?? 0))) + (run.expect.crashHeldMicro ?? 0) : 0;
  checkBudget(p, layers, run.key, totals, aheadMicro);
  const areas = { requests: p.list('requests'), counters: p.list('counters') };
  return { problems: p.list(), areas, summary: summarize(run.outcomes, rows, totals, run.key) };
}

/** One line for the test's diagnostics: what the clients got and what the log holds. */
function summarize(outcomes: Outcome[], rows: LogRow[], totals: Totals, key: CellKey): string {
  const count = (xs: string[]) => [...xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>())].map(([x, n]) => `${x} ×${n}`).join(', ');
  const answered = outcomes.filter((o) => o.answered).length;
  const estimated = rows.filter((r) => r.usage_estimated).length;
  return `${outcomes.length} requests, ${answered} answered in full; logged: ${count(rows.map((r) => `${r.status_code} ${r.error_code ?? 'ok'}`))}; ` +
    `${estimated} estimated; spent ${totals.cost_micro} of ${key.capMicro} µ$`;
}

/** After the fault: a normal request with a new key is answered and logged, with no operator involved. */
export async function checkRecovery(api: Api, url: string, fault: FaultUpstream, store: LogStore): Promise<string[]> {
  const key = await cellKey(api, 'recovery', 1, 4);
  const [o] = await drive({ url, secret: key.secret, fault }, [{ model: 'fault', client: 'fetch', maxTokens: 8 }], { concurrency: 1 });
  if (o!.status !== 200 || !o!.answered) return [`recovery: a normal request got ${o!.status} ${o!.errorCode ?? o!.failure ?? ''}`];
  const rows = await awaitLogged(store, [key.keyId], [o!.requestId], 1);
  return rows.length === 1 ? [] : [`recovery: the normal request is logged ${rows.length} times`];
}

/**
 * One in-process cell: a fresh capped key, the shots driven at 16 in flight, then every check of
 * verifyCell and a recovery request; fails the test with every problem found.
 */
export async function runCell(t: TestContext, env: { gw: Gateway; store: LogStore; fault: FaultUpstream }, name: string, shots: Shot[], expect: Expect = {}): Promise<void> {
  const { gw, store, fault } = env;
  // Slots to spare: a request a client abandoned keeps its slot while Tollgate drains it.
  const key = await cellKey(gw.api, name, 1, 64);
  const outcomes = await drive({ url: gw.url, secret: key.secret, fault }, shots, { concurrency: 16 });
  const { problems, summary } = await verifyCell({ api: gw.api, store, flush: gw.flush, fault, key, outcomes, expect });
  t.diagnostic(summary);
  problems.push(...(await checkRecovery(gw.api, gw.url, fault, store)));
  assert.deepEqual(problems, [], `${name}: ${summary}`);
}
