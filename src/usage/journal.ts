// The local request-log journal: every log row is appended to a file in the data directory, with a
// plain synchronous write(), when it is enqueued — before the batched writer commits it. A process
// that dies (kill -9, OOM, a crash) loses nothing that was answered: the next start replays the
// rows that were not committed (usage/journal-replay.ts). Only an OS crash or power loss can lose
// what the page cache held, at most the last TOLLGATE_JOURNAL_FSYNC_MS (fsync runs on a timer, off
// the request path).
//
//   <dataDir>/journal/
//     id                      this journal's id (random, made once): its row in journal_marks
//     lock                    held while a process uses the journal (an fcntl lock, freed by the kernel
//                             when the process dies, however it dies)
//     0000000000000001.jsonl  segments, named by their first row's sequence number; one line a row:
//                             [seq, ...the row's values in LOG_COLUMNS order]
//
// Sequence numbers grow by one per enqueued row. A batch's transaction records the last one it holds
// in journal_marks, so "committed" is exactly "seq ≤ mark". A segment is deleted once every row in
// it is committed; segments rotate every few MiB; and while the database is unreachable the journal
// keeps at most `maxBytes` (the oldest segments are deleted past that, as the memory queue drops its
// oldest rows past TOLLGATE_LOG_QUEUE_MAX).
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import type { LogRow } from './log-writer.ts';
import { LOG_COLUMNS } from './log-sinks.ts';

/** columns of a journal line before migration 0014 (request_id … client_ip) */
const V1_COLUMNS = 19;
/** before migration 0022 (attempts, attempt_log) */
const V2_COLUMNS = 23;

export interface JournalOptions {
  dir: string;
  /** fsync the open segment this often (ms); 0: never (the OS writes it back on its own schedule) */
  fsyncMs: number;
  /** bound on the journal's size while rows cannot be committed */
  maxBytes: number;
  /** a segment is closed and a new one started past this size */
  segmentBytes?: number;
  /** a write, fsync or delete failed (the row stays queued in memory; logging goes on) */
  onError?: (err: unknown) => void;
  /** segments were deleted uncommitted because the journal reached maxBytes */
  onOverflow?: (rows: number) => void;
}

export class JournalLockedError extends Error {}

interface Segment { file: string; firstSeq: number; lastSeq: number; bytes: number; rows: number }

const SEGMENT_RE = /^(\d{16})\.jsonl$/;
const name = (seq: number) => String(seq).padStart(16, '0') + '.jsonl';

export class Journal {
  readonly id: string;
  readonly dir: string;
  private readonly opts: JournalOptions;
  private readonly segmentBytes: number;
  private readonly lock: SQLite.Database;
  /** closed segments, oldest first, then the open one (last) once writing started */
  private segments: Segment[] = [];
  private fd = -1;
  private current: Segment | undefined;
  private dirty = false;
  private dirDirty = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private started = false;
  committedSeq = 0;
  appended = 0;
  errors = 0;
  overflowRows = 0;

  /** Takes the journal directory (creating it 0700), or throws JournalLockedError if a live process holds it. */
  constructor(opts: JournalOptions) {
    this.opts = opts;
    this.dir = opts.dir;
    this.segmentBytes = opts.segmentBytes ?? 4 * 1024 * 1024;
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.lock = takeLock(path.join(this.dir, 'lock'));
    this.id = readId(path.join(this.dir, 'id'));
    for (const f of fs.readdirSync(this.dir)) {
      const m = SEGMENT_RE.exec(f);
      if (m) this.segments.push({ file: path.join(this.dir, f), firstSeq: Number(m[1]), lastSeq: 0, bytes: fs.statSync(path.join(this.dir, f)).size, rows: 0 });
    }
    this.segments.sort((a, b) => a.firstSeq - b.firstSeq);
  }

  /** Segments left by an earlier process (before start()): their rows, in order, for replay. */
  *leftover(): Generator<{ file: string; rows: Array<{ seq: number; row: LogRow }>; bad: number }> {
    for (const s of this.segments) yield { file: s.file, ...decodeSegment(fs.readFileSync(s.file, 'utf8')) };
  }

  /**
   * Starts appending at `nextSeq` (after replay: every leftover row is committed or skipped, so the
   * leftover segments go), and fsyncs on a timer.
   */
  start(nextSeq: number): void {
    for (const s of this.segments) unlink(s.file, this.opts.onError);
    this.segments = [];
    this.committedSeq = nextSeq - 1;
    this.started = true;
    this.open(nextSeq);
    if (this.opts.fsyncMs > 0) {
      this.timer = setInterval(() => this.sync(), this.opts.fsyncMs);
      this.timer.unref();
    }
  }

  /** One row, one line, one write(). Called on the request path: nothing else happens here. */
  append(seq: number, r: LogRow): void {
    if (this.fd < 0) return;
    // The values in LOG_COLUMNS order (test/journal.test.ts checks the two agree).
    const line = JSON.stringify([seq, r.request_id, r.created_at, r.org_id, r.team_id ?? null, r.user_id ?? null, r.key_id, r.endpoint, r.model, r.provider ?? null, r.status_code, r.error_code ?? null, r.streamed ?? 0, r.tokens_in ?? 0, r.tokens_out ?? 0, r.cost_micro ?? null, r.unpriced ?? 0, r.usage_estimated ?? 0, r.latency_ms ?? 0, r.client_ip ?? null, r.cached_tokens ?? 0, r.reasoning_tokens ?? 0, r.upstream_ms ?? null, r.ttfb_ms ?? null, r.attempts ?? null, r.attempt_log ?? null]) + '\n';
    const seg = this.current!;
    try {
      const written = fs.writeSync(this.fd, line);
      // A short write (disk full) would glue the next line to a partial one: end it here.
      if (written !== line.length && written < Buffer.byteLength(line)) fs.writeSync(this.fd, '\n');
      seg.bytes += written;
    } catch (err) {
      this.errors++;
      this.opts.onError?.(err);
      return;
    }
    seg.lastSeq = seq;
    seg.rows++;
    this.appended++;
    this.dirty = true;
    if (seg.bytes >= this.segmentBytes) this.rotate(seq + 1);
  }

  /** Every row up to `seq` is committed: segments wholly below it are deleted. */
  committed(seq: number): void {
    if (seq <= this.committedSeq) return;
    this.committedSeq = seq;
    while (this.segments.length > 1 && this.segments[0]!.lastSeq <= seq) unlink(this.segments.shift()!.file, this.opts.onError);
  }

  /** fsync of the open segment (and of the directory after a rotation), on the thread pool. */
  sync(): void {
    if (this.dirty && this.fd >= 0) {
      this.dirty = false;
      fs.fsync(this.fd, (err) => err && this.opts.onError?.(err));
    }
    if (this.dirDirty) {
      this.dirDirty = false;
      syncDir(this.dir, this.opts.onError);
    }
  }

  /**
   * Stops appending and lets the journal go. Deletes the segments if every row in them is
   * committed; otherwise (the database was unreachable at shutdown) they stay for the next start.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.fd >= 0) {
      try {
        fs.fsyncSync(this.fd);
      } catch {
        // reported by the next start's replay, if anything is missing
      }
      fs.closeSync(this.fd);
      this.fd = -1;
    }
    if (this.started && !this.segments.some((s) => s.rows > 0 && s.lastSeq > this.committedSeq)) {
      for (const s of this.segments) unlink(s.file, this.opts.onError);
      this.segments = [];
    }
    this.lock.close();
  }

  /** Bytes on disk (all segments). */
  get bytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.bytes;
    return n;
  }

  private open(firstSeq: number): void {
    const file = path.join(this.dir, name(firstSeq));
    this.fd = fs.openSync(file, 'a', 0o600);
    this.current = { file, firstSeq, lastSeq: firstSeq - 1, bytes: 0, rows: 0 };
    this.segments.push(this.current);
    this.dirDirty = true;
  }

  private rotate(nextSeq: number): void {
    const fd = this.fd;
    // The old segment's last writes reach the disk before its descriptor goes (off the event loop).
    fs.fsync(fd, () => fs.close(fd, () => {}));
    this.dirty = false;
    try {
      this.open(nextSeq);
    } catch (err) {
      this.fd = -1;
      this.errors++;
      this.opts.onError?.(err);
      return;
    }
    this.enforceBound();
  }

  /** Past maxBytes (the database has been unreachable for long), the oldest segments go. */
  private enforceBound(): void {
    let total = this.bytes;
    while (total > this.opts.maxBytes && this.segments.length > 1) {
      const s = this.segments.shift()!;
      total -= s.bytes;
      const lost = Math.min(s.rows, Math.max(0, s.lastSeq - this.committedSeq));
      unlink(s.file, this.opts.onError);
      if (lost > 0) {
        this.overflowRows += lost;
        this.opts.onOverflow?.(lost);
      }
    }
  }
}

/** A segment's rows. A line that does not parse (an OS crash can leave a torn or zeroed tail) is counted, not fatal. */
export function decodeSegment(text: string): { rows: Array<{ seq: number; row: LogRow }>; bad: number } {
  const rows: Array<{ seq: number; row: LogRow }> = [];
  let bad = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      bad++;
      continue;
    }
    // A journal written before migration 0014 has the first 19 columns; the rest take their defaults.
    if (!Array.isArray(v) || (v.length !== LOG_COLUMNS.length + 1 && v.length !== V2_COLUMNS + 1 && v.length !== V1_COLUMNS + 1) || !Number.isSafeInteger(v[0])) {
      bad++;
      continue;
    }
    const row: Record<string, unknown> = { cached_tokens: 0, reasoning_tokens: 0, upstream_ms: null, ttfb_ms: null, attempts: 1, attempt_log: null };
    for (let i = 0; i < v.length - 1; i++) row[LOG_COLUMNS[i]!] = v[i + 1];
    rows.push({ seq: v[0] as number, row: row as unknown as LogRow });
  }
  return { rows, bad };
}

/**
 * An exclusive lock on the journal for this process's lifetime: an SQLite database held in an
 * exclusive transaction. SQLite locks with fcntl(), which the kernel releases when the process
 * exits, so a killed process never leaves a stale lock — and a second Tollgate on the same data
 * directory (which would replay rows the first one is still writing) is refused.
 */
function takeLock(file: string): SQLite.Database {
  const db = new SQLite(file, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('begin exclusive');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new JournalLockedError(`the request log journal in ${path.dirname(file)} is in use by another Tollgate process (each process needs its own TOLLGATE_DATA_DIR)`);
    throw err;
  }
  try {
    fs.chmodSync(file, 0o600);
  } catch {
    // not ours to chmod (a read-only mount is reported by the first segment write)
  }
  return db;
}

function readId(file: string): string {
  try {
    const id = fs.readFileSync(file, 'utf8').trim();
    if (/^[\w-]{8,64}$/.test(id)) return id;
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') throw err;
  }
  const id = randomUUID();
  fs.writeFileSync(file, id + '\n', { mode: 0o600 });
  return id;
}

/** Synchronous: at most one file per 4 MiB of rows, after a batch commits (never per request). */
function unlink(file: string, onError?: (err: unknown) => void): void {
  try {
    fs.rmSync(file, { force: true });
  } catch (err) {
    onError?.(err);
  }
}

function syncDir(dir: string, onError?: (err: unknown) => void): void {
  fs.open(dir, 'r', (err, fd) => {
    if (err) return onError?.(err);
    fs.fsync(fd, () => fs.close(fd, () => {}));
  });
}
