// PROXY_MASTER_KEY, seed 001's name for the master key, is an alias of TOLLGATE_ADMIN_KEY (issue
// 15). Its documented rotation — change the Kubernetes Secret, restart the pods — is run here as
// two processes, one after the other, on the same data directory: the new key works, the old is 401.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../src/config.ts';
import { startReplica } from './support/replicas.ts';

describe('PROXY_MASTER_KEY', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-master-alias-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const base = { TOLLGATE_DATA_DIR: dir };

  test('an alias of TOLLGATE_ADMIN_KEY, from the environment or the config file', () => {
    assert.equal(loadConfig({ ...base, PROXY_MASTER_KEY: 'from-proxy' }).adminKey, 'from-proxy');
    assert.equal(loadConfig({ ...base, TOLLGATE_ADMIN_KEY: 'from-tollgate' }).adminKey, 'from-tollgate');
    assert.equal(loadConfig({ ...base, TOLLGATE_ADMIN_KEY: 'same', PROXY_MASTER_KEY: 'same' }).adminKey, 'same');
    assert.equal(loadConfig(base).adminKey, undefined);
    const file = path.join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ proxyMasterKey: 'from-file' }));
    assert.equal(loadConfig({ ...base, TOLLGATE_CONFIG: file }).adminKey, 'from-file');
    assert.equal(loadConfig({ ...base, TOLLGATE_CONFIG: file, PROXY_MASTER_KEY: 'env-wins' }).adminKey, 'env-wins');
  });

  test('both set and different: start-up stops, naming both and neither value', () => {
    assert.throws(
      () => loadConfig({ ...base, TOLLGATE_ADMIN_KEY: 'secret-one-abc', PROXY_MASTER_KEY: 'secret-two-xyz' }),
      (err: unknown) => err instanceof ConfigError && /TOLLGATE_ADMIN_KEY/.test(err.message) && /PROXY_MASTER_KEY/.test(err.message) && !/secret-one|secret-two/.test(err.message),
    );
  });

  test('rotation: change the Secret and restart → the new key works, the old one is 401', async () => {
    const oldKey = 'pmk-old-0123456789abcdef0123456789';
    const newKey = 'pmk-new-fedcba9876543210fedcba9876';
    const data = mkdtempSync(path.join(tmpdir(), 'tollgate-rotation-'));
    try {
      const call = (url: string, key: string, method = 'GET', body?: unknown) =>
        fetch(url + '/internal/teams', { method, headers: { Authorization: `Bearer ${key}`, ...(body ? { 'Content-Type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
      // TOLLGATE_ADMIN_KEY emptied: a value inherited from the test run's environment would win.
      const first = await startReplica('before', { TOLLGATE_DATA_DIR: data, TOLLGATE_ADMIN_KEY: '', PROXY_MASTER_KEY: oldKey }, oldKey);
      try {
        assert.equal((await call(first.url, oldKey, 'POST', { name: 'engineering' })).status, 201);
        assert.equal((await call(first.url, newKey)).status, 401);
      } finally {
        assert.equal(await first.stop(), 0);
      }
      assert.ok(!first.out().includes(oldKey), 'the master key is never logged');

      const second = await startReplica('after', { TOLLGATE_DATA_DIR: data, TOLLGATE_ADMIN_KEY: '', PROXY_MASTER_KEY: newKey }, newKey);
      try {
        const listed = await call(second.url, newKey);
        assert.equal(listed.status, 200);
        assert.deepEqual(((await listed.json()) as any).data.map((t: any) => t.name), ['engineering'], 'same data, new key');
        const old = await call(second.url, oldKey);
        assert.equal(old.status, 401);
        assert.equal(((await old.json()) as any).error.code, 'invalid_api_key');
        assert.equal((await fetch(second.url + '/api/teams', { headers: { 'X-Admin-Key': oldKey } })).status, 401, 'on /api too');
      } finally {
        await second.stop();
      }
      assert.ok(!second.out().includes(newKey) && !second.out().includes(oldKey), 'the master key is never logged');
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });
});
