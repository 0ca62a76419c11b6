// Encryption key rotation: `tollgate admin reencrypt` re-seals stored provider credentials under
// the newest key version, after which the old key can be dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { openDb } from '../src/db/connection.ts';
import { migrate } from '../src/db/migrate.ts';
import { loadVault } from '../src/vault/crypto.ts';
import { insertCredential, resealCredentials } from '../src/vault/credentials.repository.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['bin/tollgate.js', ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    c.on('exit', (code) => resolve({ code, out }));
  });
}

test('rotation: add key 2, re-encrypt, drop key 1 — credentials still open', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-rotate-'));
  const [k1, k2] = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')];
  const env = { TOLLGATE_DATA_DIR: dir, TOLLGATE_DATABASE_URL: `sqlite:${path.join(dir, 'tollgate.db')}` };
  const db = openDb(env.TOLLGATE_DATABASE_URL);
  try {
    await migrate(db);
    const v1 = loadVault(k1, dir).vault;
    const at = new Date().toISOString();
    await db.kysely.insertInto('organizations').values({ name: 'Default', slug: 'default', created_at: at, updated_at: at }).execute();
    await db.kysely.transaction().execute((trx) => insertCredential(trx, v1, { orgId: 1, name: 'openai', provider: 'openai', baseUrl: 'https://x', apiKey: 'sk-secret-one', models: ['*'] }, at));
    await db.kysely.transaction().execute((trx) => insertCredential(trx, v1, { orgId: 1, name: 'other', provider: 'openai', baseUrl: 'https://y', apiKey: 'sk-secret-two', models: ['m'] }, at));

    const both = loadVault(`1:${k1},2:${k2}`, dir).vault;
    assert.deepEqual(await resealCredentials(db.kysely, both), { resealed: 2, total: 2 });
    assert.deepEqual(await resealCredentials(db.kysely, both), { resealed: 0, total: 2 }, 'idempotent');

    const only2 = loadVault(`2:${k2}`, dir).vault;
    const rows = await db.kysely.selectFrom('provider_credentials').select('secret_enc').orderBy('id').execute();
    assert.deepEqual(rows.map((r) => only2.open(r.secret_enc)), ['sk-secret-one', 'sk-secret-two']);
  } finally {
    await db.close();
  }

  const cli = await run(['admin', 'reencrypt'], { ...env, TOLLGATE_ENCRYPTION_KEY: `2:${k2},3:${randomBytes(32).toString('base64')}` });
  assert.equal(cli.code, 0, cli.out);
  assert.match(cli.out, /re-sealed 2 of 2 provider credentials under key version 3/);
});
