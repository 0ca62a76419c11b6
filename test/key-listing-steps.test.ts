// Key listings below the API, on both dialects: every filter × sort, paged by cursor, gives the
// same keys in the same order whichever step answers it (probe, filter first, plain walk:
// src/keys/key-listing.ts), as computed here from the rows themselves; and key_spend, which the
// spend order walks, follows spend_rollups through its triggers and migration 0006's backfill.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openDb, type Db } from '../src/db/connection.ts';
import { migrate } from '../src/db/migrate.ts';
import { listKeyPage, type KeyListing, type Sort, type Steps } from '../src/keys/key-listing.ts';
import type { Position } from '../src/keys/key-cursor.ts';
import { DIALECTS, dialectSkip, type Dialect } from './support/gateway.ts';
import { testPostgresUrl } from './support/services.ts';

const AT = '2026-03-01T00:00:00.000Z';
const MONTH = '2026-03';

async function freshDb(dialect: Dialect, dir: string): Promise<Db> {
  return openDb(dialect === 'sqlite' ? `sqlite:${path.join(dir, 't.db')}` : (await testPostgresUrl())!);
}

interface Key {
  id: number; org_id: number; team_id: number | null; user_id: number | null; service_account_id: number | null;
  name: string; description: string | null; tags: string; key_prefix: string; status: string;
  expires_at: string | null; last_used_at: string | null; lineage_id: number | null;
}

/** 60 keys of two organizations, with every attribute the listings read varied independently. */
function keys(): Key[] {
  const out: Key[] = [];
  for (let i = 1; i <= 60; i++) {
    const at = (days: number) => new Date(Date.parse(AT) + days * 86_400_000).toISOString();
    out.push({
      id: i,
      org_id: i % 10 === 9 ? 2 : 1,
      team_id: i % 4 === 0 ? null : 1 + (i % 3),
      user_id: i % 5 === 0 ? null : 1 + (i % 4),
      service_account_id: i % 5 === 0 ? 1 + (i % 2) : null,
      name: i % 7 === 0 ? `Deploy_${i}` : `key-${i}`,
      description: i % 3 === 0 ? `Batch 100% job ${i % 4}` : null,
      tags: JSON.stringify(i % 2 === 0 ? ['prod'] : i % 3 === 0 ? ['prod', 'eu'] : []),
      key_prefix: `sk-tg-${(1000 + i * 37).toString(36)}...`,
      status: i % 6 === 0 ? 'revoked' : i % 8 === 0 ? 'disabled' : 'active',
      // a few share values, so ties fall to the id
      expires_at: i % 3 === 1 ? null : at(1 + (i % 5)),
      last_used_at: i % 4 === 2 ? null : at(-(i % 6)),
      // keys 41–45 are rotations (old kind) of keys 1–5: same lineage
      lineage_id: i > 40 && i <= 45 ? i - 40 : null,
    });
  }
  return out;
}

/** Spend per key and day: months before, during and (a late write) within the listing's month. */
const ROLLUPS: Array<[string, number, number]> = [
  ['2026-01-10', 1, 500], ['2026-02-03', 2, 700], ['2026-03-02', 3, 300], ['2026-03-05', 3, 200], ['2026-03-02', 41, 900],
  ['2026-02-10', 7, 50], ['2026-03-04', 10, 300], ['2026-03-04', 11, 300], ['2026-03-06', 12, 10], ['2026-02-20', 13, 999],
  ['2026-03-01', 20, 5], ['2026-03-01', 24, 5], ['2026-01-01', 30, 1], ['2026-03-03', 33, 7000], ['2026-03-03', 42, 100],
];

async function load(db: Db, ks: Key[]): Promise<void> {
  const k = db.kysely;
  for (const org of [1, 2]) await sql`insert into organizations (name, slug, created_at, updated_at) values (${`o${org}`}, ${`o${org}`}, ${AT}, ${AT})`.execute(k);
  for (const t of [1, 2, 3]) await sql`insert into teams (org_id, name, slug, created_at, updated_at) values (1, ${`t${t}`}, ${`t${t}`}, ${AT}, ${AT})`.execute(k);
  for (const u of [1, 2, 3, 4]) await sql`insert into users (org_id, external_id, created_at, updated_at) values (1, ${`u${u}`}, ${AT}, ${AT})`.execute(k);
  for (const sa of [1, 2]) await sql`insert into service_accounts (org_id, team_id, name, created_at) values (1, 1, ${`sa${sa}`}, ${AT})`.execute(k);
  for (const x of ks) {
    await sql`insert into api_keys (id, org_id, team_id, user_id, service_account_id, name, description, tags, key_prefix, key_hash, status, expires_at, last_used_at, lineage_id, created_at, updated_at)
      values (${x.id}, ${x.org_id}, ${x.team_id}, ${x.user_id}, ${x.service_account_id}, ${x.name}, ${x.description}, ${x.tags}, ${x.key_prefix}, ${`h${x.id}`}, ${x.status}, ${x.expires_at}, ${x.last_used_at}, ${x.lineage_id}, ${AT}, ${AT})`.execute(k);
  }
}

async function addSpend(db: Db, day: string, keyId: number, micro: number, orgId = 1): Promise<void> {
  // the log writer's upsert (usage/log-sinks.ts)
  await sql`insert into spend_rollups (day, key_id, model, org_id, requests, cost_micro) values (${day}, ${keyId}, 'm', ${orgId}, 1, ${micro})
    on conflict (day, key_id, model) do update set requests = spend_rollups.requests + excluded.requests, cost_micro = spend_rollups.cost_micro + excluded.cost_micro`.execute(db.kysely);
}

/** The listing computed here: filters, then the documented order. */
function expected(ks: Key[], l: KeyListing): number[] {
  const lineage = (x: Key) => x.lineage_id ?? x.id;
  const spend = new Map<number, { month: string; cost: number }>();
  const sums = new Map<string, number>();
  for (const [day, keyId, micro] of ROLLUPS) {
    const x = ks.find((k) => k.id === keyId)!;
    const key = `${lineage(x)}|${day.slice(0, 7)}`;
    sums.set(key, (sums.get(key) ?? 0) + micro);
  }
  for (const [key, cost] of sums) {
    const [lin, month] = key.split('|') as [string, string];
    const cur = spend.get(Number(lin));
    if (!cur || month > cur.month) spend.set(Number(lin), { month, cost });
  }
  const sortValue = (x: Key): Array<string | number> => {
    switch (l.sort.key) {
      case 'created_at': return [];
      case 'last_used_at': return [x.last_used_at ?? ''];
      case 'expires_at': return [x.expires_at ?? 'z'];
      case 'spend': { const s = spend.get(lineage(x)) ?? { month: '', cost: 0 }; return [s.month, s.cost]; }
    }
  };
  const cmp = (a: Key, b: Key) => {
    const va = [...sortValue(a), a.id];
    const vb = [...sortValue(b), b.id];
    for (let i = 0; i < va.length; i++) if (va[i] !== vb[i]) return (va[i]! < vb[i]! ? -1 : 1) * (l.sort.desc ? -1 : 1);
    return 0;
  };
  const search = (x: Key) => `${x.name}\n${x.key_prefix}\n${x.description ?? ''}`.toLowerCase();
  return ks
    .filter((x) => x.org_id === l.orgId && l.statuses.includes(x.status as never))
    .filter((x) => l.teamId === undefined || x.team_id === l.teamId)
    .filter((x) => l.userId === undefined || x.user_id === l.userId)
    .filter((x) => l.serviceAccountId === undefined || x.service_account_id === l.serviceAccountId)
    .filter((x) => l.tags.every((t) => (JSON.parse(x.tags) as string[]).includes(t)))
    .filter((x) => l.q === undefined || search(x).includes(l.q.toLowerCase()))
    .sort(cmp)
    .map((x) => x.id);
}

/** Every page, following the cursor. */
async function walk(db: Db, l: KeyListing, steps: Steps | undefined): Promise<number[]> {
  const out: number[] = [];
  let after: Position | null | undefined;
  do {
    const page = await listKeyPage(db, { ...l, ...(after ? { after } : {}) }, steps);
    out.push(...page.keys.map((k) => k.row.id));
    after = page.next;
  } while (after && out.length <= 100);
  return out;
}

const LIVE = ['active', 'disabled'] as const;
const FILTERS: Array<[string, Partial<KeyListing>]> = [
  ['live', {}],
  ['all statuses', { statuses: ['active', 'disabled', 'revoked'] }],
  ['disabled', { statuses: ['disabled'] }],
  ['revoked + active', { statuses: ['revoked', 'active'] }],
  ['team 2', { teamId: 2 }],
  ['team 3, all', { teamId: 3, statuses: ['active', 'disabled', 'revoked'] }],
  ['user 2', { userId: 2 }],
  ['service account 1', { serviceAccountId: 1, statuses: ['active', 'disabled', 'revoked'] }],
  ['tag prod', { tags: ['prod'] }],
  ['tags prod + eu', { tags: ['prod', 'eu'] }],
  ['q "key-1"', { q: 'key-1' }],
  ['q "100%"', { q: '100%' }],
  ['q "_"', { q: '_' }],
  ['q "DEPLOY"', { q: 'DEPLOY' }],
  ['team 1 + tag + q', { teamId: 1, tags: ['prod'], q: 'key' }],
  ['org 2', { orgId: 2 }],
];
// Steps small enough that each one answers: the probe (it sees every key), filter first (the
// probe sees one key), the plain walk (filter first gives up after one match).
const STEPS: Array<[string, Steps | undefined]> = [['default', undefined], ['probe', { probeRows: 1000, maxSorted: 1000 }], ['filter first', { probeRows: 1, maxSorted: 1000 }], ['plain walk', { probeRows: 1, maxSorted: 1 }]];

for (const dialect of DIALECTS) {
  describe(`key listing steps (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    test('every filter × sort × step pages through the same keys in the documented order', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'tollgate-listing-'));
      const db = await freshDb(dialect, dir);
      try {
        await migrate(db);
        const ks = keys();
        await load(db, ks);
        for (const [day, keyId, micro] of ROLLUPS) await addSpend(db, day, keyId, micro);
        const sorts: Sort[] = (['created_at', 'last_used_at', 'expires_at', 'spend'] as const).flatMap((key) => [{ key, desc: false }, { key, desc: true }]);
        for (const [fname, f] of FILTERS) {
          for (const sort of sorts) {
            const l: KeyListing = { orgId: 1, statuses: LIVE, tags: [], sort, offset: 0, limit: 4, month: MONTH, ...f };
            const want = expected(ks, l);
            for (const [sname, steps] of STEPS) assert.deepEqual(await walk(db, l, steps), want, `${fname}, sort ${sort.desc ? '-' : ''}${sort.key}, ${sname}`);
            // the legacy offset counts the same keys
            const page = await listKeyPage(db, { ...l, offset: 3, limit: 5 });
            assert.deepEqual(page.keys.map((k) => k.row.id), want.slice(3, 8), `${fname}, sort ${sort.key}, offset`);
          }
        }
        const top = await listKeyPage(db, { orgId: 1, statuses: LIVE, tags: [], sort: { key: 'spend', desc: true }, offset: 0, limit: 3, month: MONTH });
        assert.deepEqual(top.keys.map((k) => [k.row.id, k.monthSpendMicro]), [[33, 7000], [41, 900], [1, 900]], 'a rotation (old kind) and its first key both show the lineage spend; ties by id');
      } finally {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('key_spend: migration 0006 backfills it, and the triggers follow every later write', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'tollgate-key-spend-'));
      const db = await freshDb(dialect, dir);
      const rows = async () =>
        (await sql<{ key_id: number; status: string; team_id: number | null; month: string; cost_micro: number }>`select key_id, status, team_id, month, cost_micro from key_spend order by key_id`.execute(db.kysely)).rows.map(
          (r) => [r.key_id, r.status, r.team_id, r.month, Number(r.cost_micro)],
        );
      try {
        await migrate(db, '0005_access_rules');
        const ks = keys().filter((k) => [1, 2, 3, 41].includes(k.id));
        await load(db, ks);
        await addSpend(db, '2026-01-10', 1, 500);
        await addSpend(db, '2026-02-03', 41, 70);
        await addSpend(db, '2026-02-04', 1, 30);
        await addSpend(db, '2026-02-05', 2, 0); // unpriced: no spend
        await migrate(db);
        // key 41 is key 1's rotation: both show the lineage's latest month, February (70 + 30)
        assert.deepEqual(await rows(), [[1, 'active', 2, '2026-02', 100], [2, 'active', 3, '', 0], [3, 'active', 1, '', 0], [41, 'active', 3, '2026-02', 100]]);

        await addSpend(db, '2026-03-01', 2, 5);
        await addSpend(db, '2026-03-01', 2, 6); // the writer's "+="
        await addSpend(db, '2026-03-02', 1, 40); // a new month starts from zero
        await addSpend(db, '2026-02-28', 41, 1000); // late, for an earlier month: changes nothing
        await sql`update api_keys set status = 'disabled', team_id = 1 where id = 3`.execute(db.kysely);
        await sql`insert into api_keys (id, org_id, name, key_prefix, key_hash, lineage_id, created_at, updated_at) values (42, 1, 'again', 'p', 'h42', 1, ${AT}, ${AT})`.execute(db.kysely);
        assert.deepEqual(await rows(), [[1, 'active', 2, '2026-03', 40], [2, 'active', 3, '2026-03', 11], [3, 'disabled', 1, '', 0], [41, 'active', 3, '2026-03', 40], [42, 'active', null, '2026-03', 40]]);

        await sql`delete from spend_rollups where key_id = 2 and day = '2026-03-01'`.execute(db.kysely);
        await sql`update spend_rollups set cost_micro = cost_micro + 2 where key_id = 42`.execute(db.kysely); // no row: nothing
        await addSpend(db, '2026-03-09', 42, 2);
        assert.deepEqual(await rows(), [[1, 'active', 2, '2026-03', 42], [2, 'active', 3, '2026-03', 0], [3, 'disabled', 1, '', 0], [41, 'active', 3, '2026-03', 42], [42, 'active', null, '2026-03', 42]]);
      } finally {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
