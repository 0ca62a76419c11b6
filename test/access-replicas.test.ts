// Access changes on every replica: two Tollgate processes on one PostgreSQL and one Redis. A key
// warm in replica B's cache follows an access group, its team's rule, the org's rule and its own
// rule changed through replica A, without a restart (the invalidations go over Redis pub/sub).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { serviceSkip } from './support/services.ts';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.ts';
import { clusterEnv, startReplica, type Replica } from './support/replicas.ts';

const ADMIN_KEY = `admin-${randomUUID()}`;
const UPSTREAM_KEY = 'sk-upstream-access-replicas';
const skip = serviceSkip('postgres') || serviceSkip('redis');

describe('access changes reach every replica', { skip }, () => {
  let a: Replica;
  let b: Replica;
  let fake: FakeUpstream;

  before(async () => {
    fake = await startFakeUpstream({ requireAuth: UPSTREAM_KEY });
    const env = await clusterEnv(ADMIN_KEY, UPSTREAM_KEY, fake.baseUrl);
    [a, b] = await Promise.all([startReplica('a', env, ADMIN_KEY), startReplica('b', env, ADMIN_KEY)]);
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await fake?.close();
  });

  const status = (r: Replica, key: string, model: string) =>
    r.openai(key).chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).then(() => 200, (err: any) => `${err.status} ${err.code}`);

  /** Polls B until the answer changes to `want` (bounded: the test stops by itself). */
  async function becomes(key: string, model: string, want: number | string): Promise<void> {
    const deadline = Date.now() + 5000;
    let got: number | string;
    while ((got = await status(b, key, model)) !== want) {
      assert.ok(Date.now() < deadline, `replica B still answers ${got} for ${model}, expected ${want}`);
      await sleep(20);
    }
  }

  test('a group, a team rule, the org rule and the key rule, each changed on A, apply to a key warm on B', async () => {
    const group = (await a.api('POST', '/api/access-groups', { name: 'replicated', models: ['gpt-4o-mini'] })).body;
    const team = (await a.api('POST', '/api/teams', { name: 'Replicated' })).body;
    const key = (await a.api('POST', `/api/teams/${team.id}/keys`, { name: 'k', access_groups: [group.id] })).body.key as string;
    assert.equal(await status(b, key, 'gpt-4o-mini'), 200, 'warm in B');
    assert.equal(await status(b, key, 'gpt-4o'), '403 model_not_allowed');

    assert.equal((await a.api('PATCH', `/api/access-groups/${group.id}`, { models: ['gpt-4o-mini', 'gpt-4o'] })).status, 200);
    await becomes(key, 'gpt-4o', 200);

    assert.equal((await a.api('PATCH', `/api/teams/${team.id}`, { blocked_models: ['gpt-4o'] })).status, 200);
    await becomes(key, 'gpt-4o', '403 model_not_allowed');

    assert.equal((await a.api('PATCH', '/api/orgs/current/access', { blocked_models: ['gpt-4o-mini'] })).status, 200);
    await becomes(key, 'gpt-4o-mini', '403 model_not_allowed');
    assert.equal((await a.api('PUT', '/api/orgs/current/access', {})).status, 200);
    await becomes(key, 'gpt-4o-mini', 200);

    const keyId = (await a.api('GET', `/api/teams/${team.id}/keys`)).body.data[0].id;
    assert.equal((await a.api('PATCH', `/api/keys/${keyId}`, { ip_allowlist: ['10.0.0.0/8'] })).status, 200);
    await becomes(key, 'gpt-4o-mini', '403 ip_not_allowed');
    assert.equal((await a.api('PATCH', `/api/keys/${keyId}`, { ip_allowlist: [], scopes: 'embeddings' })).status, 200);
    await becomes(key, 'gpt-4o-mini', '403 scope_not_allowed');
  });
});
