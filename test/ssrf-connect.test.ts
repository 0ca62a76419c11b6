// The SSRF guard also holds at connect time, on the /v1 path: a credential whose base URL points
// at an internal address (saved before the guard existed, or a name that now resolves inside) is
// never connected to — the request fails with 502 and the internal service sees nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from './support/gateway.ts';
import { insertCredential } from '../src/vault/credentials.repository.ts';

test('a stored credential on a loopback address is refused when connecting, not called', async () => {
  // No loopback allowance, and no credential registered from the environment.
  const gw = await startGateway({ env: { TOLLGATE_UPSTREAM_ALLOW: '', OPENAI_API_KEY: '' } });
  try {
    const { deps } = gw.runtime;
    await deps.db.kysely.transaction().execute((trx) =>
      insertCredential(trx, deps.vault, { orgId: deps.defaultOrgId, name: 'old-row', provider: 'openai-compatible', baseUrl: gw.fake.baseUrl + '/v1', apiKey: 'sk-internal-1234', models: ['internal'] }, new Date().toISOString()));
    deps.router.invalidate({ kind: 'all' });
    const team = (await gw.api('POST', '/api/teams', { name: 'ssrf' })).body;
    const key = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'k' })).body.key;
    const before = gw.fake.requests.length;
    const err = await gw.openai(key).chat.completions.create({ model: 'internal', messages: [{ role: 'user', content: 'hi' }] }).then(() => undefined, (e: { status: number }) => e);
    assert.equal(err?.status, 502);
    assert.equal(gw.fake.requests.length, before, 'the internal address was never called');
  } finally {
    await gw.close();
  }
});
