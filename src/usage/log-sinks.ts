// Where a batch of log rows goes: request_logs rows, spend_rollups increments and last_used_at
// (of keys, and of older secrets still in a grace period: key_secrets), in ONE transaction. This is the one write path that runs at request rate, so it skips the query
// builder: fixed SQL text, prepared once (SQLite: a prepared statement per row inside a
// transaction, ~µs each; PostgreSQL: one statement per table, the log rows as one JSON recordset).
// The same transaction records how far the local journal has been committed (journal_marks), so a
// journal replayed after a crash inserts exactly the rows that were not, and — when rate windows
// live in this process — the usage per scope and minute they are rebuilt from (usage_minutes).
import type { Db } from '../db/connection.ts';
import type { LogRow } from './log-writer.ts';
import { MINUTES_KEPT, minuteOf, usageMinutesOf } from './usage-minutes.ts';
import { HOUR_LEVELS, HourPruner, usageRollupsOf, COUNTERS, KEY_COLUMNS, USAGE_COLUMNS, USAGE_PG_TYPES } from './usage-rollups.ts';

export interface Rollup {
  day: string; key_id: number; model: string; org_id: number; team_id: number | null; user_id: number | null;
  requests: number; tokens_in: number; tokens_out: number; cost_micro: number; unpriced_requests: number;
}

/** The last journal row (usage/journal.ts) a batch holds: committed with it. */
export interface JournalMark { journalId: string; seq: number }

export interface LogSink {
  /** `lastUsed`: by key id; `secretsUsed`: by key_secrets id (a request made with an older secret) */
  write(rows: LogRow[], rollups: Rollup[], lastUsed: Map<number, string>, mark?: JournalMark, secretsUsed?: Map<number, string>): Promise<void>;
}

export interface SinkOptions {
  /** write usage_minutes (rate windows kept in process memory are rebuilt from it) */
  usageMinutes?: boolean;
}

/**
 * The order of a log row's columns, in SQL and in the journal's lines (usage/journal.ts). A journal
 * left by an older version is replayed with this list: a column added later goes at the end, and
 * decodeSegment() must then accept the shorter lines.
 */
export const LOG_COLUMNS = ['request_id', 'created_at', 'org_id', 'team_id', 'user_id', 'key_id', 'endpoint', 'model', 'provider', 'status_code', 'error_code', 'streamed', 'tokens_in', 'tokens_out', 'cost_micro', 'unpriced', 'usage_estimated', 'latency_ms', 'client_ip', 'cached_tokens', 'reasoning_tokens', 'upstream_ms', 'ttfb_ms', 'attempts', 'attempt_log'] as const;
const PG_TYPES = ['text', 'text', 'int', 'int', 'int', 'int', 'text', 'text', 'text', 'int', 'text', 'int', 'bigint', 'bigint', 'bigint', 'int', 'int', 'int', 'text', 'bigint', 'bigint', 'int', 'int', 'int', 'text'];
const ROLLUP_COLUMNS = ['day', 'key_id', 'model', 'org_id', 'team_id', 'user_id', 'requests', 'tokens_in', 'tokens_out', 'cost_micro', 'unpriced_requests'] as const;
const ROLLUP_TYPES = ['text', 'int', 'text', 'int', 'int', 'int', 'bigint', 'bigint', 'bigint', 'bigint', 'bigint'];
const COUNTS = ['requests', 'tokens_in', 'tokens_out', 'cost_micro', 'unpriced_requests'] as const;
const ORG_DAY_COLUMNS = ['org_id', 'day', ...COUNTS] as const;
const ORG_DAY_TYPES = ['int', 'text', 'bigint', 'bigint', 'bigint', 'bigint', 'bigint'];
type OrgDay = Pick<Rollup, (typeof ORG_DAY_COLUMNS)[number]>;

// The two rollup tables, both written as "insert, or add the counts to the existing row".
interface RollupTable { name: string; columns: readonly string[]; types: string[]; key: string }
const SPEND_ROLLUPS: RollupTable = { name: 'spend_rollups', columns: ROLLUP_COLUMNS, types: ROLLUP_TYPES, key: 'day, key_id, model' };
const ORG_DAY_ROLLUPS: RollupTable = { name: 'org_day_rollups', columns: ORG_DAY_COLUMNS, types: ORG_DAY_TYPES, key: 'org_id, day' };
const upsert = (t: RollupTable, source: string) =>
  `insert into ${t.name} (${t.columns.join(', ')}) ${source} on conflict (${t.key}) do update set ${COUNTS.map((c) => `${c} = ${t.name}.${c} + excluded.${c}`).join(', ')}`;

/** The batch's rollups summed per organization and day (org_day_rollups), in (org, day) order. */
function orgDays(rollups: Rollup[]): OrgDay[] {
  const out = new Map<string, OrgDay>();
  for (const r of rollups) {
    const k = `${r.org_id}|${r.day}`;
    const o = out.get(k);
    if (!o) out.set(k, { org_id: r.org_id, day: r.day, requests: r.requests, tokens_in: r.tokens_in, tokens_out: r.tokens_out, cost_micro: r.cost_micro, unpriced_requests: r.unpriced_requests });
    else for (const c of COUNTS) o[c] += r[c];
  }
  return [...out.values()].sort((x, y) => (x.org_id - y.org_id) || (x.day < y.day ? -1 : x.day > y.day ? 1 : 0));
}

const MINUTE_COLUMNS = ['scope', 'minute', 'requests', 'tokens'] as const;
const MINUTE_TYPES = ['text', 'int', 'bigint', 'bigint'];
const upsertMinutes = (source: string) =>
  `insert into usage_minutes (${MINUTE_COLUMNS.join(', ')}) ${source} on conflict (scope, minute) do update set requests = usage_minutes.requests + excluded.requests, tokens = usage_minutes.tokens + excluded.tokens`;
const pruneMinutes = 'delete from usage_minutes where minute < ';
// usage_rollups (usage/usage-rollups.ts): every level of the batch in one upsert; hourly rows past
// their days deleted once an hour (an index range per hourly level).
const upsertUsage = (source: string) =>
  `insert into usage_rollups (${USAGE_COLUMNS.join(', ')}) ${source} on conflict (${KEY_COLUMNS.join(', ')}) do update set ${COUNTERS.map((c) => `${c} = usage_rollups.${c} + excluded.${c}`).join(', ')}`;
const pruneHours = (p: string) => `delete from usage_rollups where level in (${HOUR_LEVELS.map((l) => `'${l}'`).join(', ')}) and bucket < ${p}`;
const lastAt = (rows: LogRow[]) => (rows.length ? Date.parse(rows[rows.length - 1]!.created_at) : 0);
const setMark = (max: string, p1: string, p2: string) =>
  `insert into journal_marks (journal_id, seq) values (${p1}, ${p2}) on conflict (journal_id) do update set seq = ${max}(journal_marks.seq, excluded.seq)`;

/**
 * usage_minutes older than the longest window are deleted as the batches' minutes move on: at most
 * one delete (an index range) per minute of traffic. Returns the cutoff to apply, if any is due.
 */
class MinutePruner {
  private before = 0;
  due(rows: LogRow[]): number | undefined {
    const last = rows.length ? minuteOf(rows[rows.length - 1]!.created_at) - MINUTES_KEPT : 0;
    return last > this.before ? last : undefined;
  }
  done(cutoff: number | undefined): void {
    if (cutoff !== undefined && cutoff > this.before) this.before = cutoff;
  }
}

/** A row with migration 0014's and 0022's columns filled in (rows made before them, refusals, or tests' rows lack them). */
const complete = (r: LogRow): LogRow =>
  r.cached_tokens !== undefined && r.reasoning_tokens !== undefined && r.upstream_ms !== undefined && r.ttfb_ms !== undefined && r.attempts != null && r.attempt_log !== undefined
    ? r
    : { ...r, cached_tokens: r.cached_tokens ?? 0, reasoning_tokens: r.reasoning_tokens ?? 0, upstream_ms: r.upstream_ms ?? null, ttfb_ms: r.ttfb_ms ?? null, attempts: r.attempts ?? 1, attempt_log: r.attempt_log ?? null };

function sqliteSink(db: import('better-sqlite3').Database, opts: SinkOptions): LogSink {
  // Named parameters: a row object binds as it is, with no per-row array.
  const insertLog = db.prepare(`insert into request_logs (${LOG_COLUMNS.join(', ')}) values (${LOG_COLUMNS.map((c) => '@' + c).join(', ')})`);
  const upsertOne = (t: RollupTable) => db.prepare(upsert(t, `values (${t.columns.map((c) => '@' + c).join(', ')})`));
  const upsertRollup = upsertOne(SPEND_ROLLUPS);
  const upsertOrgDay = upsertOne(ORG_DAY_ROLLUPS);
  const touchKey = db.prepare('update api_keys set last_used_at = ? where id = ? and (last_used_at is null or last_used_at < ?)');
  const touchSecret = db.prepare('update key_secrets set last_used_at = ? where id = ? and (last_used_at is null or last_used_at < ?)');
  const upsertMinute = db.prepare(upsertMinutes(`values (${MINUTE_COLUMNS.map((c) => '@' + c).join(', ')})`));
  const prune = db.prepare(pruneMinutes + '?');
  const mark = db.prepare(setMark('max', '?', '?'));
  const upsertUsageRow = db.prepare(upsertUsage(`values (${USAGE_COLUMNS.map((c) => '@' + c).join(', ')})`));
  const pruneUsageHours = db.prepare(pruneHours('?'));
  const hours = new HourPruner();
  const pruner = new MinutePruner();
  const tx = db.transaction((rows: LogRow[], rollups: Rollup[], lastUsed: Map<number, string>, m: JournalMark | undefined, cutoff: number | undefined, secretsUsed: Map<number, string> | undefined, hourCutoff: string | undefined) => {
    // Named parameters: a row's other fields (secret_id) are not bound.
    for (const r of rows) insertLog.run(complete(r));
    for (const r of rollups) upsertRollup.run(r);
    for (const o of orgDays(rollups)) upsertOrgDay.run(o);
    for (const u of usageRollupsOf(rows)) upsertUsageRow.run(u);
    if (hourCutoff !== undefined) pruneUsageHours.run(hourCutoff);
    for (const [id, at] of lastUsed) touchKey.run(at, id, at);
    if (secretsUsed) for (const [id, at] of secretsUsed) touchSecret.run(at, id, at);
    if (opts.usageMinutes) {
      for (const u of usageMinutesOf(rows)) upsertMinute.run(u);
      if (cutoff !== undefined) prune.run(cutoff);
    }
    if (m) mark.run(m.journalId, m.seq);
  });
  return {
    write: async (rows, rollups, lastUsed, m, secretsUsed) => {
      // This sink writes on the connection Kysely uses, past Kysely's connection mutex: while an
      // admin transaction is open on it (it awaits between its queries), a batch written now
      // would land inside that transaction and vanish with its rollback. Wait for it to end.
      for (let waited = 0; db.inTransaction; waited++) {
        if (waited > 5_000) throw new Error('a transaction has been open on the SQLite connection for over 5 s');
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const cutoff = opts.usageMinutes ? pruner.due(rows) : undefined;
      const hourCutoff = hours.due(lastAt(rows));
      tx(rows, rollups, lastUsed, m, cutoff, secretsUsed, hourCutoff);
      pruner.done(cutoff);
      hours.done(hourCutoff);
    },
  };
}

function pgSink(pool: import('pg').Pool, opts: SinkOptions): LogSink {
  const unnest = (types: string[]) => types.map((t, i) => `$${i + 1}::${t}[]`).join(', ');
  // The log rows travel as one JSON document (serialized natively) rather than 19 arrays whose
  // elements the driver would escape one by one.
  const recordset = LOG_COLUMNS.map((c, i) => `${c} ${PG_TYPES[i]}`).join(', ');
  // json_to_recordset reads only the columns named: a row's other fields (secret_id) are ignored.
  // A field a row lacks is null in the recordset: the counts of migration 0014 default to 0.
  const selected = LOG_COLUMNS.map((c) => (c === 'cached_tokens' || c === 'reasoning_tokens' ? `coalesce(${c}, 0)` : c === 'attempts' ? 'coalesce(attempts, 1)' : c)).join(', ');
  const insertLogs = `insert into request_logs (${LOG_COLUMNS.join(', ')}) select ${selected} from json_to_recordset($1::json) as x(${recordset})`;
  const upsertMany = (t: RollupTable) => upsert(t, `select * from unnest(${unnest(t.types)})`);
  const upsertRollups = upsertMany(SPEND_ROLLUPS);
  const upsertOrgDays = upsertMany(ORG_DAY_ROLLUPS);
  const touch = (table: string) => `update ${table} k set last_used_at = v.at from unnest($1::int[], $2::text[]) as v(id, at) where k.id = v.id and (k.last_used_at is null or k.last_used_at < v.at)`;
  const touchKeys = touch('api_keys');
  const touchSecrets = touch('key_secrets');
  const columns = <T>(rows: T[], names: readonly (keyof T)[]) => names.map((n) => rows.map((r) => r[n] ?? null));
  const upsertMinutesMany = upsertMinutes(`select * from unnest(${unnest(MINUTE_TYPES)})`);
  const mark = setMark('greatest', '$1', '$2::bigint');
  const upsertUsageMany = upsertUsage(`select * from unnest(${unnest(USAGE_PG_TYPES)})`);
  const hours = new HourPruner();
  const pruner = new MinutePruner();
  return {
    async write(rows, unordered, lastUsedUnordered, m, secretsUnordered) {
      // Replicas flush concurrently into the same rollup and key rows: taking the row locks in one
      // global order (not each batch's arrival order) keeps their transactions from deadlocking.
      const rollups = [...unordered].sort((x, y) => (x.key_id - y.key_id) || (x.day < y.day ? -1 : x.day > y.day ? 1 : 0) || (x.model < y.model ? -1 : x.model > y.model ? 1 : 0));
      const lastUsed = new Map([...lastUsedUnordered].sort((x, y) => x[0] - y[0]));
      const secretsUsed = new Map([...(secretsUnordered ?? [])].sort((x, y) => x[0] - y[0]));
      const minutes = opts.usageMinutes ? usageMinutesOf(rows) : undefined;
      const cutoff = opts.usageMinutes ? pruner.due(rows) : undefined;
      const usage = usageRollupsOf(rows);
      const hourCutoff = hours.due(lastAt(rows));
      const client = await pool.connect();
      try {
        await client.query('begin');
        await client.query(insertLogs, [JSON.stringify(rows)]);
        // api_keys rows before the rollups: a rollup write locks key_spend rows (its triggers,
        // migration 0006), and an admin change to keys locks api_keys then key_spend; the same
        // order here keeps a flush and, say, a team deletion from deadlocking each other.
        if (lastUsed.size) await client.query(touchKeys, [[...lastUsed.keys()], [...lastUsed.values()]]);
        if (rollups.length) {
          await client.query(upsertRollups, columns(rollups, ROLLUP_COLUMNS));
          await client.query(upsertOrgDays, columns(orgDays(rollups), ORG_DAY_COLUMNS));
        }
        if (usage.length) await client.query(upsertUsageMany, columns(usage, USAGE_COLUMNS));
        if (hourCutoff !== undefined) await client.query(pruneHours('$1'), [hourCutoff]);
        if (secretsUsed.size) await client.query(touchSecrets, [[...secretsUsed.keys()], [...secretsUsed.values()]]);
        if (cutoff !== undefined) await client.query(pruneMinutes + '$1', [cutoff]);
        if (minutes?.length) await client.query(upsertMinutesMany, columns(minutes, MINUTE_COLUMNS));
        if (m) await client.query(mark, [m.journalId, m.seq]);
        await client.query('commit');
        pruner.done(cutoff);
        hours.done(hourCutoff);
      } catch (err) {
        await client.query('rollback').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
  };
}

export function logSinkFor(db: Db, opts: SinkOptions = {}): LogSink {
  return 'sqlite' in db.raw ? sqliteSink(db.raw.sqlite, opts) : pgSink(db.raw.pg, opts);
}
