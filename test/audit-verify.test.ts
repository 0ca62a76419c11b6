// The audit chain is tamper-evident: after a realistic sequence of admin changes it verifies; an
// edited row, a deleted middle row and removed latest rows are each reported at the right event;
// concurrent changes never fork it; events written before the chain existed are chained by the
// migration; `tollgate audit verify` prints and exits accordingly; PostgreSQL refuses UPDATE and
// DELETE on audit_events unless maintenance is switched on.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { globSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql, type Kysely, type Selectable } from 'kysely';
import { DIALECTS, dialectSkip, startGateway, type Gateway, type Dialect } from './support/gateway.ts';
import { testPostgresUrl } from './support/services.ts';
import { verifyAudit, describe as describeResult, type OrgVerification } from '../src/audit/verify.ts';
import { GENESIS } from '../src/audit/audit-chain.ts';
import { openDb } from '../src/db/connection.ts';
import { migrate } from '../src/db/migrate.ts';
import type { AuditEventsTable, Database } from '../src/db/types.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');

type Event = Selectable<AuditEventsTable>;

/** Runs `fn` with the append-only trigger (PostgreSQL) switched off for this transaction only. */
async function maintenance(db: Kysely<Database>, dialect: Dialect, fn: (trx: Kysely<Database>) => Promise<void>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    if (dialect === 'postgres') await sql`set local tollgate.audit_maintenance = 'on'`.execute(trx);
    await fn(trx);
  });
}

const only = (results: OrgVerification[], orgId = 1): OrgVerification => {
  const r = results.find((x) => x.orgId === orgId);
  assert.ok(r, `no result for org ${orgId}: ${JSON.stringify(results)}`);
  return r;
};

/** A day of an admin: teams, keys (update, rotate, revoke), members and allocations, limits, a provider, a group. */
async function realisticSequence(gw: Gateway): Promise<void> {
  const ok = async (method: string, p: string, body?: unknown) => {
    const res = await gw.api(method, p, body);
    assert.ok(res.status < 300, `${method} ${p} → ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const team = await ok('POST', '/api/teams', { name: 'Research' });
  const other = await ok('POST', '/api/teams', { name: 'Support' });
  const user = await ok('POST', '/api/users', { external_id: 'ada', email: 'ada@example.com', name: 'Ada' });
  await ok('PUT', `/api/teams/${team.id}/members/${user.id}`, { role: 'member', allocation_usd: 50 });
  const key = await ok('POST', `/api/teams/${team.id}/keys`, { name: 'notebook', user_id: user.id, max_budget_usd: 10 });
  await ok('PATCH', `/api/keys/${key.id}`, { description: 'jupyter' });
  await ok('POST', `/api/keys/${key.id}/rotate`, { grace_period_seconds: 60 });
  await ok('PUT', `/api/teams/${team.id}/limits`, { rpm: 100 });
  await ok('POST', '/api/providers', { name: 'backup', provider: 'openai', base_url: 'http://127.0.0.1:9/v1', api_key: 'sk-backup-provider-secret-0123456789', models: ['m'] });
  await ok('POST', '/api/access-groups', { name: 'cheap', models: ['gpt-4o-mini'] });
  const sa = await ok('POST', `/api/teams/${other.id}/service-accounts`, { name: 'ci' });
  await ok('POST', `/api/teams/${other.id}/keys`, { name: 'ci key', service_account_id: sa.id });
  await ok('DELETE', `/api/keys/${key.id}`);
  await ok('DELETE', `/api/teams/${other.id}`);
}

for (const dialect of DIALECTS) describe(`audit chain (${dialect})`, { skip: dialectSkip(dialect) }, () => {
  let gw: Gateway;
  let db: Kysely<Database>;
  const events = () => db.selectFrom('audit_events').selectAll().where('org_id', '=', 1).orderBy('id').execute();

  before(async () => {
    gw = await startGateway({ dialect });
    db = gw.runtime.deps.db.kysely;
    await realisticSequence(gw);
  });
  after(() => gw?.close());

  test('a realistic sequence verifies: every event linked to the one before, the head at the last', async () => {
    const rows = await events();
    assert.ok(rows.length >= 14, `${rows.length} events`);
    assert.equal(rows[0]!.prev_hash, GENESIS);
    for (let i = 1; i < rows.length; i++) assert.equal(rows[i]!.prev_hash, rows[i - 1]!.hash, `event ${rows[i]!.id}`);
    const r = only(await verifyAudit(db));
    assert.deepEqual(r, { orgId: 1, ok: true, events: rows.length, head: rows.at(-1)!.hash });
    assert.equal(describeResult(r), `org 1: ok: ${rows.length} events, head ${rows.at(-1)!.hash}`);
  });

  test("editing one event's `after` in the database: verify names that event as edited", async () => {
    const rows = await events();
    const victim = rows[Math.floor(rows.length / 2)]!;
    await maintenance(db, dialect, (trx) => trx.updateTable('audit_events').set({ after: '{"name":"innocent"}' }).where('id', '=', victim.id).execute().then(() => {}));
    const r = only(await verifyAudit(db, { orgId: 1 }));
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.eventId === victim.id && r.problem === 'hash_mismatch', describeResult(r));
    assert.match(describeResult(r), new RegExp(`broken at event ${victim.id}: hash_mismatch: .*edited`));
    // Put back as it was: the chain verifies again (nothing else was touched).
    await maintenance(db, dialect, (trx) => trx.updateTable('audit_events').set({ after: victim.after }).where('id', '=', victim.id).execute().then(() => {}));
    assert.equal(only(await verifyAudit(db)).ok, true);
  });

  test('an edit that also recomputes the hash is caught at the next event', async () => {
    const rows = await events();
    const victim = rows[2]!;
    const { eventHash } = await import('../src/audit/audit-chain.ts');
    const forged = { ...victim, after: '{"forged":true}' };
    await maintenance(db, dialect, (trx) => trx.updateTable('audit_events').set({ after: forged.after, hash: eventHash(forged) }).where('id', '=', victim.id).execute().then(() => {}));
    const r = only(await verifyAudit(db));
    assert.ok(!r.ok && r.eventId === rows[3]!.id && r.problem === 'prev_hash_mismatch', describeResult(r));
    await maintenance(db, dialect, (trx) => trx.updateTable('audit_events').set({ after: victim.after, hash: victim.hash }).where('id', '=', victim.id).execute().then(() => {}));
    assert.equal(only(await verifyAudit(db)).ok, true);
  });

  test('deleting a middle event: verify reports a broken prev link at the next one', async () => {
    const rows = await events();
    const i = Math.floor(rows.length / 3);
    const victim = rows[i]!;
    await maintenance(db, dialect, (trx) => trx.deleteFrom('audit_events').where('id', '=', victim.id).execute().then(() => {}));
    const r = only(await verifyAudit(db));
    assert.ok(!r.ok && r.eventId === rows[i + 1]!.id && r.problem === 'prev_hash_mismatch', describeResult(r));
    assert.match(describeResult(r), /deleted or inserted/);
    assert.equal(r.events, i, 'the events before the gap were verified');
    await db.insertInto('audit_events').values(victim).execute();
    assert.equal(only(await verifyAudit(db)).ok, true);
  });

  test('deleting the first event: the next one no longer starts the chain', async () => {
    const rows = await events();
    await maintenance(db, dialect, (trx) => trx.deleteFrom('audit_events').where('id', '=', rows[0]!.id).execute().then(() => {}));
    const r = only(await verifyAudit(db));
    assert.ok(!r.ok && r.eventId === rows[1]!.id && r.problem === 'prev_hash_mismatch', describeResult(r));
    await db.insertInto('audit_events').values(rows[0]!).execute();
    assert.equal(only(await verifyAudit(db)).ok, true);
  });

  test('deleting the latest events: verify reports a head mismatch', async () => {
    const rows = await events();
    const removed = rows.slice(-2);
    await maintenance(db, dialect, (trx) => trx.deleteFrom('audit_events').where('id', 'in', removed.map((e) => e.id)).execute().then(() => {}));
    const r = only(await verifyAudit(db));
    assert.ok(!r.ok && r.problem === 'head_mismatch' && r.eventId === rows.at(-3)!.id, describeResult(r));
    assert.match(describeResult(r), new RegExp(`head is event ${rows.at(-1)!.id} .*latest events were removed`));
    for (const e of removed) await db.insertInto('audit_events').values(e).execute();
    assert.equal(only(await verifyAudit(db)).ok, true);
  });

  test('events inserted outside the chain: a well-linked one is past the head, an unlinked one breaks the link', async () => {
    const rows = await events();
    const last = rows.at(-1)!;
    const { eventHash } = await import('../src/audit/audit-chain.ts');
    // Appended with a correct link and hash, but without the head (only appendEvent moves it).
    const extra = { ...last, id: last.id + 1000, action: 'team.delete', prev_hash: last.hash };
    const forged = { ...extra, hash: eventHash(extra) };
    await db.insertInto('audit_events').values(forged).execute();
    let r = only(await verifyAudit(db));
    assert.ok(!r.ok && r.problem === 'head_mismatch' && r.eventId === forged.id, describeResult(r));
    await maintenance(db, dialect, (trx) => trx.deleteFrom('audit_events').where('id', '=', forged.id).execute().then(() => {}));
    // A row written straight into the table, bypassing the chain.
    const gap = await db.insertInto('audit_events').values({ ...last, id: last.id + 2000, prev_hash: null, hash: null }).returning('id').executeTakeFirstOrThrow();
    r = only(await verifyAudit(db));
    assert.ok(!r.ok && r.problem === 'prev_hash_mismatch' && r.eventId === gap.id, describeResult(r));
    assert.match(describeResult(r), /written outside the chain/);
    await maintenance(db, dialect, (trx) => trx.deleteFrom('audit_events').where('id', '=', gap.id).execute().then(() => {}));
    assert.equal(only(await verifyAudit(db)).ok, true);
  });

  test('20 concurrent admin changes append without forking the chain', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => gw.api('POST', '/api/teams', { name: `parallel ${i}` })));
    assert.deepEqual(results.map((r) => r.status), Array(20).fill(201));
    const rows = await events();
    const hashes = new Set(rows.map((e) => e.prev_hash));
    assert.equal(hashes.size, rows.length, 'no two events share a predecessor');
    const r = only(await verifyAudit(db));
    assert.ok(r.ok, describeResult(r));
    assert.equal(r.events, rows.length);
  });

  test('events of several organizations: one chain each, verified apart', async () => {
    const org = await gw.api('POST', '/api/orgs', { name: 'Second Org' });
    assert.equal(org.status, 201);
    const second = await gw.api('POST', '/api/teams', { name: 'theirs' }, org.body.admin_key);
    assert.equal(second.status, 201);
    const mine = await events();
    const theirs = await db.selectFrom('audit_events').selectAll().where('org_id', '=', org.body.id).orderBy('id').execute();
    assert.ok(theirs.length >= 2 && theirs.at(-1)!.action === 'team.create');
    assert.equal(theirs[0]!.prev_hash, GENESIS, "an organization's chain starts at the genesis value");
    for (let i = 1; i < theirs.length; i++) assert.equal(theirs[i]!.prev_hash, theirs[i - 1]!.hash);
    const all = await verifyAudit(db);
    assert.deepEqual(all.map((x) => [x.orgId, x.ok, x.events]), [[1, true, mine.length], [org.body.id, true, theirs.length]]);
  });

  test('`tollgate audit verify` prints ok and exits 0; after an edit, the first broken link and exit 1', async () => {
    const env = { ...process.env, TOLLGATE_DATABASE_URL: gw.runtime.deps.config.databaseUrl, TOLLGATE_DATA_DIR: gw.runtime.deps.config.dataDir };
    const cli = (args: string[]) => run(process.execPath, ['src/cli.ts', 'audit', 'verify', ...args], { cwd: ROOT, env, timeout: 60_000 }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
    const rows = await events();
    let out = await cli(['--org', '1']);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, `org 1: ok: ${rows.length} events, head ${rows.at(-1)!.hash}\n`);
    out = await cli([]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout.trim().split('\n').length, 2, 'one line per organization');

    const victim = rows[5]!;
    await maintenance(db, dialect, (trx) => trx.updateTable('audit_events').set({ source_ip: '203.0.113.9' }).where('id', '=', victim.id).execute().then(() => {}));
    out = await cli(['--org', '1']);
    assert.equal(out.code, 1);
    assert.match(out.stdout, new RegExp(`^org 1: broken at event ${victim.id}: hash_mismatch: `));
    out = await cli(['--org', 'one']);
    assert.equal(out.code, 2);
    assert.match(out.stderr, /--org must be an organization id/);
    await maintenance(db, dialect, (trx) => trx.updateTable('audit_events').set({ source_ip: victim.source_ip }).where('id', '=', victim.id).execute().then(() => {}));
    assert.equal((await cli(['--org', '1'])).code, 0);
  });

  if (dialect === 'postgres') {
    test('PostgreSQL refuses UPDATE, DELETE and TRUNCATE of audit events unless maintenance is on', async () => {
      const [first] = await events();
      const refused = async (p: Promise<unknown>, op: string) => {
        await assert.rejects(p, (err: Error & { code?: string }) => err.code === '42501' && err.message.includes(`append-only: ${op} refused`));
      };
      await refused(db.updateTable('audit_events').set({ after: '{}' }).where('id', '=', first!.id).execute(), 'UPDATE');
      await refused(db.deleteFrom('audit_events').where('id', '=', first!.id).execute(), 'DELETE');
      await refused(sql`truncate audit_events`.execute(db), 'TRUNCATE');
      // Outside the transaction that set it, the setting is off again.
      await maintenance(db, dialect, async () => {});
      await refused(db.deleteFrom('audit_events').where('id', '=', first!.id).execute(), 'DELETE');
      assert.equal(only(await verifyAudit(db)).ok, true);
    });
  }
});

for (const dialect of DIALECTS) describe(`audit chain backfill, migration 0013 (${dialect})`, { skip: dialectSkip(dialect) }, () => {
  test('events written before the chain are chained per organization in id order, and new ones follow', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-audit-'));
    const url = dialect === 'postgres' ? await testPostgresUrl() : `sqlite:${path.join(dir, 'old.db')}`;
    const store = openDb(url!);
    try {
      await migrate(store, '0008_people');
      const k = store.kysely;
      const now = '2026-01-01T00:00:00.000Z';
      const org = (slug: string) => k.insertInto('organizations').values({ name: slug, slug, created_at: now, updated_at: now }).returning('id').executeTakeFirstOrThrow();
      const org1 = await org('one');
      const org2 = await org('two');
      const legacy = (org: number, i: number) => ({ created_at: `2026-01-01T00:00:0${i}.000Z`, org_id: org, team_id: null, actor_type: 'admin_key', actor_id: 'master', action: 'team.create', target_type: 'team', target_id: String(i), before: null, after: JSON.stringify({ name: `t${i}` }), amount_micro: i % 2 ? 1_500_000 : null, source_ip: '127.0.0.1' });
      // Interleaved organizations, as a real history is; more than one page (1,000) of each.
      const rows = Array.from({ length: 2500 }, (_, i) => legacy(i % 2 ? org2.id : org1.id, i % 10));
      for (let i = 0; i < rows.length; i += 250) await k.insertInto('audit_events').values(rows.slice(i, i + 250)).execute();
      await migrate(store);
      const results = await verifyAudit(k);
      assert.deepEqual(results.map((r) => [r.orgId, r.ok, r.events]), [[org1.id, true, 1250], [org2.id, true, 1250]]);
      // The verifier's own paging agrees.
      assert.deepEqual(await verifyAudit(k, { pageSize: 7 }), results);

      const { recordAudit } = await import('../src/audit/audit.repository.ts');
      await recordAudit(k, { type: 'system', id: 'test', orgId: org1.id, role: 'admin', userId: null, superadmin: false, ip: null }, { orgId: org1.id, action: 'org.access.set', targetType: 'org', targetId: org1.id }, now);
      const after = await verifyAudit(k, { orgId: org1.id });
      assert.deepEqual(after.map((r) => [r.ok, r.events]), [[true, 1251]]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('append-only in the code', () => {
  test('no source file writes audit_events but the chain (audit-chain.ts) and the migrations', () => {
    const writes = /(insertInto|updateTable|deleteFrom)\(\s*['"]audit_events['"]|(insert\s+into|update|delete\s+from|truncate)\s+audit_events\b/i;
    const offenders = globSync('src/**/*.ts', { cwd: ROOT })
      .filter((f) => !f.startsWith(path.join('src', 'db', 'migrations')) && f !== path.join('src', 'audit', 'audit-chain.ts'))
      .filter((f) => writes.test(readFileSync(path.join(ROOT, f), 'utf8')));
    assert.deepEqual(offenders, [], 'these write audit events outside the chain: use recordAudit (src/audit/audit.repository.ts)');
  });
});
