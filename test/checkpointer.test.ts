// The embedded database's write-ahead log is checkpointed by a worker thread, not by the request
// path: the serving connection never checkpoints (no fsync stall on the event loop), and the log
// still does not grow without bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDb } from '../src/db/connection.ts';
import { migrate } from '../src/db/migrate.ts';
import { logSinkFor } from '../src/usage/log-sinks.ts';
import type { LogRow } from '../src/usage/log-writer.ts';

const row = (i: number): LogRow => ({
  request_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, created_at: '2026-03-28T12:00:00.000Z', org_id: 1, team_id: null, user_id: null, key_id: 1,
  endpoint: 'chat/completions', model: 'gpt-4o-mini', provider: 'openai', status_code: 200, error_code: null, streamed: 0, tokens_in: 10, tokens_out: 10,
  cost_micro: 1, unpriced: 0, usage_estimated: 0, latency_ms: 1, client_ip: '127.0.0.1',
});

for (const worker of [true, false]) {
  test(`WAL growth over three write rounds, checkpoints ${worker ? 'on a worker thread' : 'off (control)'}`, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tollgate-wal-'));
    const file = path.join(dir, 't.db');
    const db = openDb(`sqlite:${file}`, { checkpointInWorker: worker, checkpointIntervalMs: 100 });
    try {
      await migrate(db);
      const sqlite = (db.raw as { sqlite: import('better-sqlite3').Database }).sqlite;
      if (!worker) sqlite.pragma('wal_autocheckpoint = 0'); // what the main connection runs with
      assert.equal(sqlite.pragma('wal_autocheckpoint', { simple: true }), 0, 'the serving connection never checkpoints');
      const sink = logSinkFor(db);
      // What the migrations left in the log: the control's growth is measured from here, so a
      // migration that writes more pages does not read as a log that stopped growing.
      const base = statSync(file + '-wal', { throwIfNoEntry: false })?.size ?? 0;
      const sizes: number[] = [];
      let n = 0;
      for (let round = 0; round < 3; round++) {
        await sink.write(Array.from({ length: 3000 }, () => row(n++)), [], new Map());
        sizes.push(statSync(file + '-wal').size);
        await new Promise((r) => setTimeout(r, 600));
      }
      if (worker) assert.ok(sizes[2]! <= sizes[0]! * 1.2, `the log is reused after each checkpoint: ${sizes.join(' → ')} bytes`);
      else assert.ok(sizes[2]! - base > (sizes[0]! - base) * 2.5, `without checkpoints it keeps growing by each round's writes: ${base} → ${sizes.join(' → ')} bytes`);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
