// Opens the store named by the database URL: SQLite (embedded default, WAL) or PostgreSQL.
// Both dialects run the same Kysely queries and the same migrations.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { Database } from './types.ts';
import { startCheckpointer } from './checkpointer.ts';

export type DialectName = 'sqlite' | 'postgres';

export interface Db {
  kysely: Kysely<Database>;
  dialect: DialectName;
  /** The raw driver, for the one hot batch path that bypasses query building (usage/log-sinks.ts). */
  raw: { sqlite: SQLite.Database } | { pg: pg.Pool };
  close(): Promise<void>;
}

// int8 (counts, micro-USD) as numbers: sums stay far below 2^53 (≈ $9 billion in micro-USD).
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

export interface OpenOptions {
  poolSize?: number;
  /** SQLite file: checkpoint the WAL on a worker thread, off the event loop (the serving process) */
  checkpointInWorker?: boolean;
  /** how often the worker checkpoints (ms) */
  checkpointIntervalMs?: number;
  onError?: (message: string) => void;
}

/**
 * The database holds every key hash, audit trail and sealed credential: only its owner may read
 * it. A new data directory is made 0700 and the database file 0600 before SQLite opens it; SQLite
 * gives the -wal and -shm files the database file's mode, so they are 0600 too. Files left more
 * open by an earlier version are tightened.
 */
function privateFiles(file: string): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  closeSync(openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      if (existsSync(f) && (statSync(f).mode & 0o077) !== 0) chmodSync(f, 0o600);
    } catch (err) {
      process.emitWarning(`cannot restrict ${f} to its owner (mode 0600): ${(err as Error).message}`);
    }
  }
}

export function openDb(url: string, options: OpenOptions = {}): Db {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    if (file !== ':memory:') privateFiles(file);
    const database = new SQLite(file);
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('busy_timeout = 5000');
    database.pragma('foreign_keys = ON');
    const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
    const checkpointer = options.checkpointInWorker && file !== ':memory:' ? startCheckpointer(database, file, options.checkpointIntervalMs ?? 1000, options.onError) : undefined;
    const close = async () => {
      await checkpointer?.stop();
      await kysely.destroy();
    };
    return { kysely, dialect: 'sqlite', raw: { sqlite: database }, close };
  }
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10 });
  // A client that loses its connection must not crash the process. Idle ones are reported on the
  // pool; a checked-out one (inside a query or transaction) emits 'error' on itself, which pg-pool
  // leaves unhandled — its queries fail with the error instead, and on release the dead client is
  // dropped from the pool. The next query reconnects.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { kysely, dialect: 'postgres', raw: { pg: pool }, close: () => kysely.destroy() };
}
