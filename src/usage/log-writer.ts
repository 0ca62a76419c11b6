// Batched, append-only request log writer. The hot path only enqueues (never awaits); a timer
// flushes a batch in ONE transaction that inserts the log rows and adds them into the daily spend
// rollups, so logs and rollups can never disagree, and concurrent replicas never lose an update
// (the rollup upsert is an atomic increment). On failure rows stay queued and are retried; the
// queue is bounded so an unreachable database cannot grow memory without limit.
import { sql, type Kysely } from 'kysely';
import type { Database, RequestLogsTable } from '../db/types.ts';
import type { Insertable } from 'kysely';
import { utcDay } from '../clock.ts';

export type LogRow = Insertable<RequestLogsTable> & { created_at: string };

export interface LogWriterOptions {
  flushMs: number;
  batchSize: number;
  queueMax: number;
  onError?: (err: unknown) => void;
}

export class LogWriter {
  private queue: LogRow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly db: Kysely<Database>;
  private readonly opts: LogWriterOptions;
  dropped = 0;
  written = 0;
  failures = 0;

  constructor(db: Kysely<Database>, opts: LogWriterOptions) {
    this.db = db;
    this.opts = opts;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush().catch(() => {}), this.opts.flushMs);
    this.timer.unref();
  }

  enqueue(row: LogRow): void {
    if (this.queue.length >= this.opts.queueMax) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(row);
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Writes everything queued so far. Concurrent callers share the flush in progress. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.queue.length === 0) return;
    this.flushing = this.drain().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.opts.batchSize);
      try {
        await this.write(batch);
      } catch (err) {
        this.failures++;
        this.opts.onError?.(err);
        throw err;
      }
      this.queue.splice(0, batch.length);
      this.written += batch.length;
    }
  }

  private async write(batch: LogRow[]): Promise<void> {
    const rollups = new Map<string, { day: string; key_id: number; model: string; org_id: number; team_id: number | null; user_id: number | null; requests: number; tokens_in: number; tokens_out: number; cost_micro: number; unpriced_requests: number }>();
    const lastUsed = new Map<number, string>();
    for (const r of batch) {
      // Rows Tollgate answered itself (bad key state, unknown model, limit denial) have no
      // provider: they are logged but are not spend.
      if (r.provider == null) continue;
      const day = utcDay(Date.parse(r.created_at));
      const k = `${day}|${r.key_id}|${r.model}`;
      let agg = rollups.get(k);
      if (!agg) {
        agg = { day, key_id: r.key_id, model: r.model, org_id: r.org_id, team_id: r.team_id ?? null, user_id: r.user_id ?? null, requests: 0, tokens_in: 0, tokens_out: 0, cost_micro: 0, unpriced_requests: 0 };
        rollups.set(k, agg);
      }
      agg.requests++;
      agg.tokens_in += Number(r.tokens_in ?? 0);
      agg.tokens_out += Number(r.tokens_out ?? 0);
      agg.cost_micro += Number(r.cost_micro ?? 0);
      if (r.unpriced) agg.unpriced_requests++;
    }
    for (const r of batch) {
      const prev = lastUsed.get(r.key_id);
      if (!prev || prev < r.created_at) lastUsed.set(r.key_id, r.created_at);
    }
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < batch.length; i += 200) await trx.insertInto('request_logs').values(batch.slice(i, i + 200)).execute();
      for (const agg of rollups.values()) {
        await trx
          .insertInto('spend_rollups')
          .values(agg)
          .onConflict((oc) =>
            oc.columns(['day', 'key_id', 'model']).doUpdateSet({
              requests: sql`spend_rollups.requests + excluded.requests`,
              tokens_in: sql`spend_rollups.tokens_in + excluded.tokens_in`,
              tokens_out: sql`spend_rollups.tokens_out + excluded.tokens_out`,
              cost_micro: sql`spend_rollups.cost_micro + excluded.cost_micro`,
              unpriced_requests: sql`spend_rollups.unpriced_requests + excluded.unpriced_requests`,
            }),
          )
          .execute();
      }
      for (const [keyId, at] of lastUsed) {
        await trx
          .updateTable('api_keys')
          .set({ last_used_at: at })
          .where('id', '=', keyId)
          .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
          .execute();
      }
    });
  }
}
