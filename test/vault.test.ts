import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadVault, Vault } from '../src/vault/crypto.ts';

test('sealed secrets round-trip and do not contain the plaintext', () => {
  const vault = new Vault(new Map([[1, randomBytes(32)]]));
  const sealed = vault.seal('sk-provider-secret-value');
  assert.ok(!sealed.includes('sk-provider-secret-value'));
  assert.match(sealed, /^v1:/);
  assert.equal(vault.open(sealed), 'sk-provider-secret-value');
  assert.notEqual(vault.seal('x'), vault.seal('x'), 'fresh IV each time');
});

test('tampered ciphertext or the wrong key is refused (GCM authentication)', () => {
  const vault = new Vault(new Map([[1, randomBytes(32)]]));
  const sealed = vault.seal('secret');
  const parts = sealed.split(':');
  const ct = Buffer.from(parts[3]!, 'base64');
  ct[0] = ct[0]! ^ 1;
  assert.throws(() => vault.open([parts[0], parts[1], parts[2], ct.toString('base64')].join(':')));
  const other = new Vault(new Map([[1, randomBytes(32)]]));
  assert.throws(() => other.open(sealed));
});

test('versioned master keys: new secrets use the newest, old ones still open', () => {
  const k1 = randomBytes(32);
  const old = new Vault(new Map([[1, k1]]));
  const sealedV1 = old.seal('a');
  const rotated = new Vault(new Map([[1, k1], [2, randomBytes(32)]]));
  assert.equal(rotated.open(sealedV1), 'a');
  assert.equal(rotated.versionOf(rotated.seal('b')), 2);
});

test('without TOLLGATE_ENCRYPTION_KEY a key is generated once into the data dir (mode 0600)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vault-'));
  const first = loadVault(undefined, dir);
  assert.equal(first.generated, true);
  const file = path.join(dir, 'encryption.key');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const second = loadVault(undefined, dir);
  assert.equal(second.generated, false);
  assert.equal(second.vault.open(first.vault.seal('x')), 'x');
  assert.match(readFileSync(file, 'utf8').trim(), /^[0-9a-f]{64}$/);
  assert.throws(() => loadVault('too-short', dir), /32 bytes/);
  const hex = randomBytes(32).toString('hex');
  assert.equal(loadVault(`1:${hex},2:${randomBytes(32).toString('base64')}`, dir).vault.currentVersion, 2);
});
