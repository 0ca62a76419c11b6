// SQLite in WAL mode copies the log back into the database file ("checkpoint") from whichever
// connection commits when the log passes 1,000 pages, and that copy ends in an fsync: on the
// gateway's one connection it stalled the event loop for 9–12 ms every few seconds under load
// (a 250-row log flush: p99 9.0 ms with automatic checkpoints, 1.6 ms without). So the gateway's
// connection does not checkpoint; a worker thread with its own connection does, every second,
// in PASSIVE mode (it never waits for or blocks a writer). Should the worker fail, automatic
// checkpoints come back on the main connection, so the log cannot grow without bound.
import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';

export interface Checkpointer {
  stop(): Promise<void>;
}

const AUTO_PAGES = 1000; // SQLite's default threshold, restored if the worker is gone

export function startCheckpointer(db: SQLite.Database, file: string, intervalMs = 1000, onError: (message: string) => void = () => {}): Checkpointer {
  db.pragma('wal_autocheckpoint = 0');
  const worker = new Worker(new URL('./checkpoint-worker.ts', import.meta.url), { workerData: { file, intervalMs } });
  worker.unref();
  let stopping = false;
  const fallBack = (message: string) => {
    if (db.open) db.pragma(`wal_autocheckpoint = ${AUTO_PAGES}`);
    onError(message);
  };
  worker.on('message', (m: { error?: string }) => {
    if (m.error) onError(`WAL checkpoint failed: ${m.error}`);
  });
  worker.on('error', (err) => fallBack(`WAL checkpointer stopped: ${err.message}; checkpointing on the main thread again`));
  worker.on('exit', (code) => {
    if (!stopping && code !== 0) fallBack(`WAL checkpointer exited (${code}); checkpointing on the main thread again`);
  });
  return {
    async stop() {
      if (stopping) return;
      stopping = true;
      // Unref'd so it never holds the process open; while we wait for it to exit it must, or a
      // process with nothing else pending ends mid-close (an unsettled await).
      worker.ref();
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage('stop');
      await exited;
      if (db.open) db.pragma(`wal_autocheckpoint = ${AUTO_PAGES}`);
    },
  };
}
