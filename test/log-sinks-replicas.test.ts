// Replicas flush their log batches into the same spend_rollups rows at the same time; on PostgreSQL
// their transactions must take row locks in one order, or they deadlock (and a flush that a budget
// load waits on fails).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openDb } from '../src/db/connection.ts';
import { migrate } from '../src/db/migrate.ts';
import { logSinkFor, type Rollup } from '../src/usage/log-sinks.ts';
import { serviceSkip, testPostgresUrl } from './support/services.ts';

describe('log sinks of two replicas (postgres)', { skip: serviceSkip('postgres') }, () => {
  test('flushing overlapping rollups in opposite orders never deadlocks, and every increment lands', async () => {
    const url = (await testPostgresUrl())!;
    const [d1, d2] = [openDb(url), openDb(url)];
    try {
      await migrate(d1);
      const [s1, s2] = [logSinkFor(d1), logSinkFor(d2)];
      const roll = (key_id: number): Rollup => ({ day: '2026-03-28', key_id, model: 'gpt-4o', org_id: 1, team_id: null, user_id: null, requests: 1, tokens_in: 2, tokens_out: 3, cost_micro: 5, unpriced_requests: 0 });
      const ids = Array.from({ length: 20 }, (_, i) => i + 1);
      const rounds = 40;
      for (let i = 0; i < rounds; i++) {
        const results = await Promise.allSettled([s1.write([], ids.map(roll), new Map()), s2.write([], [...ids].reverse().map(roll), new Map())]);
        for (const r of results) assert.equal(r.status, 'fulfilled', r.status === 'rejected' ? String(r.reason) : '');
      }
      const rows = await d1.kysely.selectFrom('spend_rollups').select(['key_id', 'requests', 'cost_micro']).orderBy('key_id').execute();
      assert.deepEqual(rows, ids.map((key_id) => ({ key_id, requests: 2 * rounds, cost_micro: 10 * rounds })));
    } finally {
      await d1.close();
      await d2.close();
    }
  });
});
