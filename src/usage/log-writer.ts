// Batched, append-only request log writer. The hot path only enqueues (never awaits); a timer
// flushes a batch in ONE transaction that inserts the log rows and adds them into the daily spend
// rollups, so logs and rollups can never disagree, and concurrent replicas never lose an update
// (the rollup upsert is an atomic increment). On failure rows stay queued and are retried; the
// queue is bounded so an unreachable database cannot grow memory without limit.
//
// With a journal (usage/journal.ts), enqueue() also appends the row to a local file first, so a
// process that dies before the flush loses nothing: the next start replays what was not committed.
// Rows are numbered in enqueue order (seq = seqBase + position in the queue); each batch commits
// with the seq of its last row, which is how the replay knows what was committed.
import type { Insertable } from 'kysely';
import type { RequestLogsTable } from '../db/types.ts';
import type { JournalMark, LogSink, Rollup } from './log-sinks.ts';
import type { Journal } from './journal.ts';

export type LogRow = Insertable<RequestLogsTable> & {
  created_at: string;
  /**
   * Set when the request used one of the key's older secrets (still in its grace period): that
   * secret's last_used_at is touched instead of the key's. Not a request_logs column; the sinks
   * do not write it, and the crash journal does not keep it (a replayed row touches the key's).
   */
  secret_id?: number | null;
};

export interface LogWriterOptions {
  flushMs: number;
  batchSize: number;
  queueMax: number;
  onError?: (err: unknown) => void;
  /** started journal: every row is appended to it when enqueued */
  journal?: Journal;
  /** the sequence number of the first row enqueued (the journal's next, after its replay) */
  firstSeq?: number;
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
  private readonly journal: Journal | undefined;
  /** seq of the row at absolute queue position 0 */
  private readonly seqBase: number;
  dropped = 0;
  written = 0;
  failures = 0;

  constructor(sink: LogSink, opts: LogWriterOptions) {
    this.sink = sink;
    this.opts = opts;
    this.journal = opts.journal;
    this.seqBase = opts.firstSeq ?? 1;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush().catch(() => {}), this.opts.flushMs);
    this.timer.unref();
  }

  enqueue(row: LogRow): void {
    // The row's seq is its absolute position: base + the array's length before the push.
    this.journal?.append(this.seqBase + this.base + this.queue.length, row);
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
      const lastSeq = this.seqBase + start + batch.length - 1;
      try {
        await this.write(batch, this.journal ? { journalId: this.journal.id, seq: lastSeq } : undefined);
      } catch (err) {
        this.failures++;
        this.opts.onError?.(err);
        throw err;
      }
      // Rows may have been queued, dropped (queue full) or compacted away while it was written.
      this.head = Math.max(this.head, start + batch.length - this.base);
      if (this.head >= 4096 || this.head === this.queue.length) this.compact();
      this.written += batch.length;
      this.journal?.committed(lastSeq);
      // SQLite writes synchronously: let requests run between batches instead of one long stall.
      if (this.pending > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private write(batch: LogRow[], mark: JournalMark | undefined): Promise<void> {
    return writeBatch(this.sink, batch, mark);
  }
}

/** One batch into the sink: the rows, their rollups and keys' (and older secrets') last use, in one transaction. */
export async function writeBatch(sink: LogSink, batch: LogRow[], mark?: JournalMark): Promise<void> {
  const rollups = new Map<string, Rollup>();
  const lastUsed = new Map<number, string>();
  const secretsUsed = new Map<number, string>();
  for (const r of batch) {
    const used = r.secret_id == null ? lastUsed : secretsUsed;
    const id = r.secret_id ?? r.key_id;
    const prev = used.get(id);
    if (!prev || prev < r.created_at) used.set(id, r.created_at);
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
  return sink.write(batch, [...rollups.values()], lastUsed, mark, secretsUsed);
}
