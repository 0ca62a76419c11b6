// Request log retention (TOLLGATE_LOG_RETENTION_DAYS; docs/observability.md, "Request logs"):
// every replica runs this job, which removes request_logs rows older than N days. Spend history
// lives in the rollups (spend_rollups, org_day_rollups, usage tables) and key_spend, none of which
// is derived back from request_logs: pruning never touches them.
//
// PostgreSQL (request_logs partitioned by day, migration 0025, src/usage/log-partitions.ts): a
// day's partition whose whole range is older than the cutoff is dropped — one catalog change, no
// rows deleted, no dead tuples left for vacuum. DROP TABLE, not DETACH PARTITION CONCURRENTLY:
// CONCURRENTLY cannot run in a transaction block (where the advisory lock below lives) nor on a
// table with a DEFAULT partition, which request_logs has; a plain DROP takes the parent's lock for
// a moment, bounded by lock_timeout (the run then stops and the next one retries). Rows are
// deleted in bounded batches only from the two leaf tables that are not whole days: the DEFAULT
// partition (rows whose day had no partition) and the legacy partition (the table as it was before
// migration 0025), which is dropped whole once its range is entirely older than the cutoff.
//
// SQLite: rows are deleted in bounded batches (1,000 rows, pausing between them), so the event
// loop is never held for long. On PostgreSQL the batches are 5,000 rows.
//
// One replica prunes at a time: on PostgreSQL each batch or drop runs in a transaction that first
// takes a transaction-scoped advisory lock without waiting (safe behind PgBouncer in transaction
// mode); a replica that finds it taken leaves this run to the other one. SQLite has one process.
import { Periodic } from '../periodic.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Db } from '../db/connection.ts';
import type { Database } from '../db/types.ts';
import type { Clock } from '../clock.ts';
import { DDL_LOCK_TIMEOUT, LEGACY_PARTITION, listPartitions } from './log-partitions.ts';

const DAY_MS = 86_400_000;
/** pg advisory lock key: "tlrt" (bootstrap's is "toll") */
const RETENTION_LOCK = 0x746c7274;

export interface RetentionOptions {
  /** rows older than this many days are deleted; 0 keeps everything (the job does not run) */
  days: number;
  /** rows per DELETE statement (default 5,000 on PostgreSQL, 1,000 on SQLite) */
  batchSize?: number;
  /** pause between two batches (default 200 ms) */
  pauseMs?: number;
  /** how often a run starts (default: hourly), and the first one after start (default: 1 minute) */
  intervalMs?: number;
  firstDelayMs?: number;
  /** every completed run, for the log line (and anything counting rows pruned) */
  onResult?: (r: PruneResult) => void;
  onError?: (err: unknown) => void;
}

export interface PruneResult {
  /** rows created before this instant were deleted */
  cutoff: string;
  /** rows deleted one by one (SQLite; PostgreSQL's DEFAULT and legacy partitions) */
  pruned: number;
  batches: number;
  ms: number;
  /** PostgreSQL: whole partitions dropped (days entirely older than the cutoff; their rows are not counted in `pruned`) */
  partitionsDropped: number;
  /** another replica held the lock: this run left the rest to it */
  skipped?: 'locked';
}

export class LogRetention {
  /** rows this replica has pruned since it started */
  prunedTotal = 0;
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly opts: Required<Omit<RetentionOptions, 'onResult' | 'onError'>> & Pick<RetentionOptions, 'onResult' | 'onError'>;
  private readonly schedule: Periodic<PruneResult>;

  constructor(db: Db, clock: Clock, opts: RetentionOptions) {
    this.db = db;
    this.clock = clock;
    // PostgreSQL deletes out of process; SQLite's DELETE runs on the event loop, which serves
    // nothing else meanwhile: 1,000 rows (five indexes each) took 115–300 ms on a heavily loaded
    // 2-core machine, 5,000 rows up to 1.1 s.
    const batchSize = db.dialect === 'sqlite' ? 1000 : 5000;
    this.opts = { batchSize, pauseMs: 200, intervalMs: 3_600_000, firstDelayMs: 60_000, ...opts };
    this.schedule = new Periodic(() => this.run(), { intervalMs: this.opts.intervalMs, onResult: this.opts.onResult, onError: this.opts.onError });
  }

  get enabled(): boolean {
    return this.opts.days > 0;
  }

  start(): void {
    if (!this.enabled) return;
    this.schedule.start(this.opts.firstDelayMs);
  }

  /** Stops the schedule; a run in progress ends after its current batch. */
  stop(): Promise<void> {
    return this.schedule.stop();
  }

  /** One run: every organization's rows older than the cutoff, batch by batch (tests call it). */
  tick(): Promise<PruneResult> {
    return this.schedule.tick();
  }

  private async run(): Promise<PruneResult> {
    const started = performance.now();
    const cutoff = new Date(this.clock.now() - this.opts.days * DAY_MS).toISOString();
    const result: PruneResult = { cutoff, pruned: 0, batches: 0, partitionsDropped: 0, ms: 0 };
    let tables = ['request_logs'];
    if (this.db.dialect === 'postgres') {
      const partitions = await listPartitions(this.db.kysely);
      // Whole partitions past the cutoff (days, and the legacy one once all of it is), oldest first.
      const old = partitions.filter((p) => !p.isDefault && p.to !== null && p.to <= cutoff).sort((a, b) => (a.to! < b.to! ? -1 : 1));
      for (const p of old) {
        if (this.schedule.stopping) break;
        if (!(await this.drop(p.name))) {
          result.skipped = 'locked';
          break;
        }
        result.partitionsDropped++;
      }
      // What is left to delete row by row: DEFAULT, and the legacy partition while it straddles the cutoff.
      tables = partitions.filter((p) => p.isDefault || (p.name === LEGACY_PARTITION && !old.includes(p))).map((p) => p.name);
    }
    // One organization at a time: each batch is then a walk of its (org_id, created_at, id) index.
    const orgs = result.skipped ? [] : await this.db.kysely.selectFrom('organizations').select('id').orderBy('id').execute();
    for (const table of tables) {
      for (const { id: orgId } of orgs) {
        while (!this.schedule.stopping) {
          const deleted = await this.batch(table, orgId, cutoff);
          if (deleted === null) {
            result.skipped = 'locked';
            break;
          }
          result.batches++;
          result.pruned += deleted;
          this.prunedTotal += deleted;
          if (deleted < this.opts.batchSize) break;
          await sleep(this.opts.pauseMs, undefined, { ref: false });
        }
        if (result.skipped || this.schedule.stopping) break;
      }
      if (result.skipped || this.schedule.stopping) break;
    }
    result.ms = Math.round(performance.now() - started);
    return result;
  }

  /** Runs `work` in a transaction holding the retention lock; null when another replica holds it. */
  private locked<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T | null> {
    return this.db.kysely.transaction().execute(async (trx) => {
      if (this.db.dialect === 'postgres') {
        const lock = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${RETENTION_LOCK}) as ok`.execute(trx);
        if (!lock.rows[0]?.ok) return null;
      }
      return work(trx);
    });
  }

  /** Drops one partition of request_logs; false when another replica holds the lock. */
  private async drop(name: string): Promise<boolean> {
    const done = await this.locked(async (trx) => {
      // Still there under the lock (another replica may have dropped it a moment ago).
      if (!(await listPartitions(trx)).some((p) => p.name === name)) return true;
      await sql`set local lock_timeout = ${sql.lit(DDL_LOCK_TIMEOUT)}`.execute(trx);
      await sql`drop table ${sql.table(name)}`.execute(trx);
      return true;
    });
    return done === true;
  }

  /** Deletes up to batchSize of the oldest rows of `table`; null when another replica holds the lock. */
  private batch(table: string, orgId: number, cutoff: string): Promise<number | null> {
    return this.locked((trx) => deleteOldest(trx, table, orgId, cutoff, this.opts.batchSize));
  }
}

/** On PostgreSQL `table` is a leaf partition (DEFAULT or legacy): rows are never deleted through the partitioned parent. */
async function deleteOldest(db: Kysely<Database>, table: string, orgId: number, cutoff: string, limit: number): Promise<number> {
  // The leaf's name in place of the parent's: same columns, same indexes.
  const t = table as 'request_logs';
  const r = await db
    .deleteFrom(t)
    .where('id', 'in', (eb) => eb.selectFrom(t).select('id').where('org_id', '=', orgId).where('created_at', '<', cutoff).orderBy('created_at').orderBy('id').limit(limit))
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
