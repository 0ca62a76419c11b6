// A PostgreSQL connection that dies while a query or transaction is using it (a server restart, a
// failover, an idle-in-transaction timeout) must fail that work, not crash the gateway process.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openDb } from '../src/db/connection.ts';
import { logSinkFor } from '../src/usage/log-sinks.ts';
import { migrate } from '../src/db/migrate.ts';
import { serviceSkip, testPostgresUrl } from './support/services.ts';

describe('PostgreSQL connections lost mid-use', { skip: serviceSkip('postgres') }, () => {
  test('a terminated backend fails its transaction and the log flush; the pool reconnects', async () => {
    const url = (await testPostgresUrl())!;
    const db = openDb(url);
    const admin = openDb(url);
    try {
      await migrate(db);
      const pid = async (tag: string) => {
        for (let i = 0; i < 100; i++) {
          const r = await sql<{ pid: number }>`select pid from pg_stat_activity where datname = current_database() and query like ${'%' + tag + '%'} and pid <> pg_backend_pid()`.execute(admin.kysely);
          if (r.rows[0]) return r.rows[0].pid;
          await new Promise((r) => setTimeout(r, 20));
        }
        throw new Error(`no backend running ${tag}`);
      };

      // A Kysely transaction in flight.
      // (Each expectation is attached before the backend is terminated: the rejection must never
      // be unhandled, even for a moment.)
      const trx = assert.rejects(
        db.kysely.transaction().execute(async (t) => {
          await sql`select pg_sleep(30) -- tx-victim`.execute(t);
        }),
        /terminat/i,
        'the transaction fails with the connection',
      );
      await sql`select pg_terminate_backend(${await pid('tx-victim')})`.execute(admin.kysely);
      await trx;

      // The log sink's own checked-out client (raw pg, one transaction per batch).
      // Holds the table until the flush's backend has been terminated (however slow the machine).
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const lockTaken = new Promise<void>((r) => (locked = r));
      const blocker = db.kysely.transaction().execute(async (t) => {
        await sql`lock table spend_rollups in access exclusive mode`.execute(t);
        locked();
        await released;
      });
      await lockTaken;
      const flush = assert.rejects(
        logSinkFor(db).write([], [{ day: '2026-03-28', key_id: 1, model: 'm', org_id: 1, team_id: null, user_id: null, requests: 1, tokens_in: 1, tokens_out: 1, cost_micro: 1, unpriced_requests: 0 }], new Map()),
        /terminat|Connection/i,
        'the flush fails, to be retried by the log writer',
      );
      try {
        await sql`select pg_terminate_backend(${await pid('insert into spend_rollups')})`.execute(admin.kysely);
        await flush;
      } finally {
        release();
      }
      await blocker;

      const after = await sql<{ one: number }>`select 1 as one`.execute(db.kysely);
      assert.deepEqual(after.rows, [{ one: 1 }], 'the next query gets a fresh connection');
    } finally {
      await db.close();
      await admin.close();
    }
  });
});
