// The embedded database holds key hashes, audit trails and sealed provider credentials: the data
// directory is created 0700 and the database, its -wal and -shm files 0600, like the encryption key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { startGateway } from './support/gateway.ts';
import { openDb } from '../src/db/connection.ts';

const mode = (file: string): string => (statSync(file).mode & 0o777).toString(8).padStart(3, '0');

test('a fresh data directory is 0700; the database, -wal, -shm and encryption key are 0600', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'tollgate-perm-'));
  const dir = path.join(root, 'data');
  const gw = await startGateway({ env: { TOLLGATE_DATA_DIR: dir, TOLLGATE_DATABASE_URL: `sqlite:${path.join(dir, 'tollgate.db')}`, TOLLGATE_ENCRYPTION_KEY: '' } });
  try {
    // Write something, so the write-ahead log and its index exist.
    assert.equal((await gw.api('POST', '/api/teams', { name: 'perm' })).status, 201);
    await gw.flush();
    assert.equal(mode(dir), '700');
    for (const f of ['tollgate.db', 'tollgate.db-wal', 'tollgate.db-shm', 'encryption.key']) {
      assert.ok(existsSync(path.join(dir, f)), `${f} exists`);
      assert.equal(mode(path.join(dir, f)), '600', f);
    }
  } finally {
    await gw.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('database files an earlier version left world-readable are restricted on open', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-perm-'));
  const file = path.join(dir, 'tollgate.db');
  // An earlier Tollgate's files: 0644, WAL mode, the log and its index still present (it is open).
  const old = new SQLite(file);
  old.pragma('journal_mode = WAL');
  old.exec('create table t (x); insert into t values (1)');
  for (const f of [file, `${file}-wal`, `${file}-shm`]) chmodSync(f, 0o644);
  const db = openDb(`sqlite:${file}`);
  try {
    for (const f of [file, `${file}-wal`, `${file}-shm`]) assert.equal(mode(f), '600', path.basename(f));
  } finally {
    await db.close();
    old.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
