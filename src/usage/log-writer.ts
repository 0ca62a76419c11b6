// Batched, append-only request log writer. The hot path only enqueues (never awaits); a timer
// flushes a batch in ONE transaction that inserts the log rows and adds them into the daily spend
// rollups, so logs and rollups can never disagree, and concurrent replicas never lose an update
// (the rollup upsert is an atomic increment). On failure rows stay queued and are retried; the
// queue is bounded so an unreachable database cannot grow memory without limit.
import type { Insertable } from 'kysely';
import type { RequestLogsTable } from '../db/types.ts';
import type { LogSink, Rollup } from './log-sinks.ts';

export type LogRow = Insertable<RequestLogsTable> & { created_at: string };

export interface LogWriterOptions {
  flushMs: number;
  batchSize: number;
  queueMax: number;
  onError?: (err: unknown) => void;
}

export class LogWriter {
  // A FIFO with a moving head: dropping the oldest row (database down, queue full) is O(1).
  private queue: LogRow[] = [];
  private head = 0;
  /** rows removed from the array's front by compaction: absolute position = base + index */
  private base = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly sink: LogSink;
  private readonly opts: LogWriterOptions;
  dropped = 0;
  written = 0;
  failures = 0;

  constructor(sink: LogSink, opts: LogWriterOptions) {
    this.sink = sink;
    this.opts = opts;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush().catch(() => {}), this.opts.flushMs);
    this.timer.unref();
  }

  enqueue(row: LogRow): void {
    if (this.pending >= this.opts.queueMax) {
      this.head++;
      this.dropped++;
      if (this.head >= 4096 && this.head * 2 >= this.queue.length) this.compact();
    }
    this.queue.push(row);
  }

  get pending(): number {
    return this.queue.length - this.head;
  }

  private compact(): void {
    this.queue = this.queue.slice(this.head);
    this.base += this.head;
    this.head = 0;
  }

  /** Writes everything queued so far. Concurrent callers share the flush in progress. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.pending === 0) return;
    this.flushing = this.drain().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async drain(): Promise<void> {
    while (this.pending > 0) {
      const start = this.base + this.head;
      const batch = this.queue.slice(this.head, this.head + this.opts.batchSize);
      try {
        await this.write(batch);
      } catch (err) {
        this.failures++;
        this.opts.onError?.(err);
        throw err;
      }
      // Rows may have been queued, dropped (queue full) or compacted away while it was written.
      this.head = Math.max(this.head, start + batch.length - this.base);
      if (this.head >= 4096 || this.head === this.queue.length) this.compact();
      this.written += batch.length;
      // SQLite writes synchronously: let requests run between batches instead of one long stall.
      if (this.pending > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private async write(batch: LogRow[]): Promise<void> {
    const rollups = new Map<string, Rollup>();
    const lastUsed = new Map<number, string>();
    for (const r of batch) {
      const prev = lastUsed.get(r.key_id);
      if (!prev || prev < r.created_at) lastUsed.set(r.key_id, r.created_at);
      // Rows Tollgate answered itself (bad key state, unknown model, limit denial) have no
      // provider: they are logged but are not spend.
      if (r.provider == null) continue;
      const day = r.created_at.slice(0, 10);
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
    await this.sink.write(batch, [...rollups.values()], lastUsed);
  }
}
