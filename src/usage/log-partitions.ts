// The partition keeper (PostgreSQL only; docs/production.md, "Request log partitions"):
// request_logs is range-partitioned by created_at (migration 0025) into one partition per UTC day,
// named request_logs_pYYYYMMDD. Every replica runs this job at start (before serving) and hourly;
// it creates the partitions of today and the next `daysAhead` days (7 by default) that do not exist
// yet, so a day has had a week of hourly chances to be created before its first row arrives.
//
// Daily, because retention is counted in days (TOLLGATE_LOG_RETENTION_DAYS): dropping a day's
// partition frees exactly the rows past the cutoff, at most one day late. A listing bounded in
// time reads only the days it covers.
//
// A partition is made as a plain table with a CHECK of its range, then attached: ATTACH PARTITION
// takes only a SHARE UPDATE EXCLUSIVE lock on request_logs, which log inserts and reads do not
// wait for (CREATE TABLE … PARTITION OF would lock them out), and the CHECK spares it a scan of the
// new table. It does lock and scan the DEFAULT partition (normally empty), to prove no row there
// belongs to the new range; lock_timeout bounds the wait for those locks, and a day that timed out
// is retried on the next run, days before it is needed.
//
// A row whose day has no partition (the keeper was down for a week, a clock far off, a journal
// replayed late) lands in request_logs_default and is not lost. PostgreSQL refuses to attach a
// range that has rows in DEFAULT, so for such a day the keeper moves them in the same transaction:
// out of DEFAULT into the new table (ids and all), then attaches it. It looks for such days in
// DEFAULT on its hourly runs, not at start: a large DEFAULT would hold the start for the whole move.
//
// Replicas run the keeper at once: each partition is created in its own transaction that first
// takes a transaction-scoped advisory lock without waiting (safe behind PgBouncer in transaction
// mode); a replica finding it taken leaves the run to the one holding it.
import { Periodic } from '../periodic.ts';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import type { Database } from '../db/types.ts';
import type { Clock } from '../clock.ts';

const DAY_MS = 86_400_000;
/** pg advisory lock key: "tlpt" (retention's is "tlrt", bootstrap's "toll") */
const KEEPER_LOCK = 0x746c7074;
/** How long a DDL statement on request_logs may wait for its lock before giving up this run. */
export const DDL_LOCK_TIMEOUT = '3s';
export const DEFAULT_PARTITION = 'request_logs_default';
export const LEGACY_PARTITION = 'request_logs_legacy';

/** One partition of request_logs: [from, to) as ISO instants; null is unbounded (MINVALUE/MAXVALUE). */
export interface Partition {
  name: string;
  from: string | null;
  to: string | null;
  isDefault: boolean;
}

/** The UTC day starting at `ms`'s day, as a partition's name and bounds. */
export function dayPartition(ms: number): Partition {
  const start = Math.floor(ms / DAY_MS) * DAY_MS;
  const from = new Date(start).toISOString();
  return { name: `request_logs_p${from.slice(0, 10).replaceAll('-', '')}`, from, to: new Date(start + DAY_MS).toISOString(), isDefault: false };
}

/** request_logs' partitions as the catalog holds them (empty when the table is not partitioned). */
export async function listPartitions(db: Kysely<Database>): Promise<Partition[]> {
  const r = await sql<{ name: string; bound: string }>`select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
    from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = to_regclass('request_logs') order by c.relname`.execute(db);
  return r.rows.map(({ name, bound }) => {
    if (bound === 'DEFAULT') return { name, from: null, to: null, isDefault: true };
    // FOR VALUES FROM ('2026-11-30T00:00:00.000Z') TO ('2026-12-01T00:00:00.000Z'), or MINVALUE/MAXVALUE
    const m = /FROM \((.+)\) TO \((.+)\)/.exec(bound);
    if (!m) throw new Error(`request_logs partition ${name} has a bound this version does not read: ${bound}`);
    const value = (v: string) => (v === 'MINVALUE' || v === 'MAXVALUE' ? null : v.replace(/^'|'$/g, ''));
    return { name, from: value(m[1]!), to: value(m[2]!), isDefault: false };
  });
}

const overlaps = (a: Partition, b: Partition) => !a.isDefault && !b.isDefault && (a.from === null || b.to === null || a.from < b.to) && (b.from === null || a.to === null || b.from < a.to);

export interface KeeperOptions {
  /** partitions are kept for today and this many days after it (default 7) */
  daysAhead?: number;
  /** how often a run starts (default: hourly) */
  intervalMs?: number;
  onResult?: (r: KeepResult) => void;
  onError?: (err: unknown) => void;
}

export interface KeepResult {
  /** partitions this run created */
  created: string[];
  /** rows moved out of DEFAULT into a partition created for their day */
  moved: number;
  ms: number;
  /** another replica held the lock: this run left the rest to it */
  skipped?: 'locked';
}

export class LogPartitionKeeper {
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly opts: Required<Omit<KeeperOptions, 'onResult' | 'onError'>> & Pick<KeeperOptions, 'onResult' | 'onError'>;
  private readonly schedule: Periodic<KeepResult, { adopt?: boolean }>;

  constructor(db: Db, clock: Clock, opts: KeeperOptions = {}) {
    this.db = db;
    this.clock = clock;
    this.opts = { daysAhead: 7, intervalMs: 3_600_000, ...opts };
    if (!Number.isInteger(this.opts.daysAhead) || this.opts.daysAhead < 1) throw new Error(`daysAhead must be a whole number of days ≥ 1 (got ${this.opts.daysAhead})`);
    this.schedule = new Periodic((o) => this.run(o?.adopt ?? true), { intervalMs: this.opts.intervalMs, onResult: this.opts.onResult, onError: this.opts.onError });
  }

  /** request_logs is partitioned on PostgreSQL only. */
  get enabled(): boolean {
    return this.db.dialect === 'postgres';
  }

  /**
   * Creates the days ahead now (awaited: a new installation has them before its first request),
   * then runs hourly, the first time a minute after start, moving rows out of DEFAULT too.
   */
  async start(): Promise<void> {
    if (!this.enabled) return;
    await this.schedule.runReported({ adopt: false });
    this.schedule.start(Math.min(60_000, this.opts.intervalMs));
  }

  stop(): Promise<void> {
    return this.schedule.stop();
  }

  /** One run (tests call it); `adopt: false` leaves the days found in DEFAULT for a later run. */
  tick(opts: { adopt?: boolean } = {}): Promise<KeepResult> {
    return this.schedule.tick(opts);
  }

  private async run(adopt: boolean): Promise<KeepResult> {
    const started = performance.now();
    const result: KeepResult = { created: [], moved: 0, ms: 0 };
    const today = this.clock.now();
    const wanted = new Map<string, Partition>();
    for (let d = 0; d <= this.opts.daysAhead; d++) {
      const p = dayPartition(today + d * DAY_MS);
      wanted.set(p.name, p);
    }
    // Days that have rows waiting in DEFAULT (a bounded look: DEFAULT is normally empty).
    const waiting = adopt ? (await sql<{ day: string }>`select distinct left(created_at, 10) as day from ${sql.table(DEFAULT_PARTITION)} limit 400`.execute(this.db.kysely)).rows : [];
    for (const { day } of waiting) {
      const ms = Date.parse(`${day}T00:00:00.000Z`);
      if (Number.isNaN(ms)) continue;
      const p = dayPartition(ms);
      wanted.set(p.name, p);
    }
    for (const p of [...wanted.values()].sort((a, b) => (a.from! < b.from! ? -1 : 1))) {
      if (this.schedule.stopping) break;
      const outcome = await this.create(p);
      if (outcome === 'locked') {
        result.skipped = 'locked';
        break;
      }
      if (outcome !== undefined) {
        result.created.push(p.name);
        result.moved += outcome;
      }
    }
    result.ms = Math.round(performance.now() - started);
    return result;
  }

  /**
   * Creates one day's partition, moving its rows out of DEFAULT first. Returns the rows moved,
   * undefined when the day needs nothing (it exists, or the legacy partition covers it), or
   * 'locked' when another replica is keeping.
   */
  private create(p: Partition): Promise<number | undefined | 'locked'> {
    return this.db.kysely.transaction().execute(async (trx) => {
      const lock = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${KEEPER_LOCK}) as ok`.execute(trx);
      if (!lock.rows[0]?.ok) return 'locked';
      // Read under the lock: another replica may have created it a moment ago.
      if ((await listPartitions(trx)).some((q) => q.name === p.name || overlaps(q, p))) return undefined;
      await sql`set local lock_timeout = ${sql.lit(DDL_LOCK_TIMEOUT)}`.execute(trx);
      const table = sql.table(p.name);
      const bound = sql.id(`${p.name}_bound`);
      await sql`create table ${table} (like request_logs including defaults)`.execute(trx);
      await sql`alter table ${table} add constraint ${bound} check (created_at >= ${sql.lit(p.from)} and created_at < ${sql.lit(p.to)})`.execute(trx);
      // The day's rows waiting in DEFAULT, if any, move in (one transaction: nothing seen missing).
      const moved = await sql`with gone as (delete from ${sql.table(DEFAULT_PARTITION)} where created_at >= ${p.from} and created_at < ${p.to} returning *)
        insert into ${table} select * from gone`.execute(trx);
      // Builds the parent's indexes on it (over the moved rows only); the CHECK spares the scan.
      await sql`alter table request_logs attach partition ${table} for values from (${sql.lit(p.from)}) to (${sql.lit(p.to)})`.execute(trx);
      await sql`alter table ${table} drop constraint ${bound}`.execute(trx);
      return Number(moved.numAffectedRows ?? 0);
    });
  }
}
