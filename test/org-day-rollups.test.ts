// An organization's budget counter is rebuilt from org_day_rollups (one row per organization and
// day) instead of every key × model rollup row of it: the same number, from far fewer rows.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { DIALECTS, dialectSkip } from './support/gateway.ts';
import { call, startPricedGateway } from './support/priced.ts';
import { openDb, type Db } from '../src/db/connection.ts';
import { migrate } from '../src/db/migrate.ts';
import { testPostgresUrl } from './support/services.ts';

const sumOfRollups = async (db: Db, orgId: number, from: string | null) => {
  let q = db.kysely.selectFrom('spend_rollups').select(sql<number>`coalesce(sum(cost_micro), 0)`.as('c')).where('org_id', '=', orgId);
  if (from) q = q.where('day', '>=', from);
  return Number((await q.executeTakeFirstOrThrow()).c);
};

for (const dialect of DIALECTS) {
  describe(`organization spend per day (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    test('the org budget rebuilt after traffic equals the sum of every rollup row, for a month and for all time', async () => {
      const gw = await startPricedGateway({ dialect });
      try {
        for (const name of ['alpha', 'beta']) {
          const team = (await gw.api('POST', '/api/teams', { name })).body;
          const client = gw.openai((await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'k' })).body.key);
          for (let i = 0; i < 3; i++) assert.equal(await call(client), 200);
          assert.equal(await call(client, 'gpt-4o-mini'), 200);
        }
        await gw.flush();
        const db = gw.runtime.deps.db;
        const now = Date.now();
        const monthStart = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1);
        const total = await gw.runtime.deps.loadSpent('org:1', 0, null);
        assert.equal(total, await sumOfRollups(db, 1, null));
        assert.ok(total >= 36_000_000, `six $6 requests and two cheap ones: ${total} µ$`);
        assert.equal(await gw.runtime.deps.loadSpent('org:1', monthStart, null), await sumOfRollups(db, 1, new Date(monthStart).toISOString().slice(0, 10)));
        const rows = await db.kysely.selectFrom('org_day_rollups').selectAll().execute();
        assert.equal(rows.length, 1, 'one row for the organization and the day');
        assert.equal(Number(rows[0]!.requests), 8);
      } finally {
        await gw.close();
      }
    });

    test('migration 0003 fills the table from the rollups already there', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'tollgate-0003-'));
      const db = openDb(dialect === 'sqlite' ? `sqlite:${path.join(dir, 't.db')}` : (await testPostgresUrl())!);
      try {
        await migrate(db, '0002_key_listing_indexes');
        const roll = (day: string, key_id: number, model: string, org_id: number, cost_micro: number) => ({ day, key_id, model, org_id, team_id: null, user_id: null, requests: 1, tokens_in: 2, tokens_out: 3, cost_micro, unpriced_requests: 0 });
        await db.kysely.insertInto('spend_rollups').values([roll('2026-03-01', 1, 'a', 1, 10), roll('2026-03-01', 2, 'b', 1, 20), roll('2026-03-02', 1, 'a', 1, 5), roll('2026-03-01', 3, 'a', 2, 7)]).execute();
        assert.deepEqual(await migrate(db, '0003_org_day_rollups'), ['0003_org_day_rollups']);
        const rows = await db.kysely.selectFrom('org_day_rollups').select(['org_id', 'day', 'requests', 'cost_micro']).orderBy('org_id').orderBy('day').execute();
        assert.deepEqual(rows.map((r) => [r.org_id, r.day, Number(r.requests), Number(r.cost_micro)]), [[1, '2026-03-01', 2, 30], [1, '2026-03-02', 1, 5], [2, '2026-03-01', 1, 7]]);
      } finally {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
