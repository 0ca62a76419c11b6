// Seed 001 ("Teams & API keys") as written: its curl calls verbatim — same paths, headers and
// bodies, only the host, the master key (given as PROXY_MASTER_KEY) and the ids it copies from one
// answer into the next changed — against a real server, on SQLite and PostgreSQL. Then the key is
// used on /v1 with the official SDK, deleted, and refused — also across two replicas, as the
// Kubernetes Deployment runs them.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DIALECTS, dialectSkip, startGateway, type Gateway } from './support/gateway.ts';
import { clusterEnv, startReplica, type Replica } from './support/replicas.ts';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.ts';
import { serviceSkip } from './support/services.ts';

const PROXY_MASTER_KEY = 'seed-001-master-key-4f8a2c9e1b7d3a6f';

for (const dialect of DIALECTS) {
  describe(`seed 001 walkthrough (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let gw: Gateway;
    before(async () => {
      // The gateway's own TOLLGATE_ADMIN_KEY is unset: the master key comes from PROXY_MASTER_KEY only.
      gw = await startGateway({ dialect, env: { TOLLGATE_ADMIN_KEY: '', PROXY_MASTER_KEY } });
    });
    after(() => gw?.close());

    /** curl [-X method] url -H … [-d body]: the headers exactly as the page writes them. */
    const curl = async (method: string, path: string, body?: string) => {
      const headers: Record<string, string> = { Authorization: `Bearer ${PROXY_MASTER_KEY}` };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const res = await fetch(gw.url + path, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await res.text();
      return { status: res.status, text, json: JSON.parse(text) as any };
    };

    test('create team → user in it → key → list keys (no secret) → /v1 → delete key → refused', async () => {
      const team = await curl('POST', '/internal/teams', `{
"name": "engineering",
"tpm_limit": 200000,
"daily_token_limit": 5000000
}`);
      assert.equal(team.status, 201, team.text);
      assert.match(team.json.id, /^team_\d+$/);
      assert.equal(team.json.name, 'engineering');
      assert.equal(team.json.tpm_limit, 200000);
      assert.equal(team.json.daily_token_limit, 5000000);
      assert.match(team.json.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);

      const teams = await curl('GET', '/internal/teams');
      assert.equal(teams.status, 200, teams.text);
      assert.deepEqual(teams.json.data.map((t: any) => [t.id, t.name, t.tpm_limit, t.daily_token_limit]), [[team.json.id, 'engineering', 200000, 5000000]]);

      const user = await curl('POST', '/internal/users', `{
"external_id": "alice@example.com",
"team_id": "${team.json.id}"
}`);
      assert.equal(user.status, 201, user.text);
      assert.match(user.json.id, /^user_\d+$/);
      assert.equal(user.json.external_id, 'alice@example.com');
      assert.equal(user.json.team_id, team.json.id);

      const users = await curl('GET', '/internal/users');
      assert.equal(users.status, 200, users.text);
      const alice = users.json.data.find((u: any) => u.id === user.json.id);
      assert.equal(alice.external_id, 'alice@example.com');
      assert.equal(alice.team_id, team.json.id);

      const key = await curl('POST', '/internal/api-keys', `{
"name": "laptop-dev",
"user_id": "${user.json.id}"
}`);
      assert.equal(key.status, 201, key.text);
      // The page's response, field for field.
      assert.deepEqual(Object.keys(key.json).sort(), ['created_at', 'id', 'key', 'key_prefix', 'name', 'user_id']);
      assert.match(key.json.id, /^ak_\d+$/);
      assert.equal(key.json.name, 'laptop-dev');
      assert.equal(key.json.user_id, user.json.id);
      const secret: string = key.json.key;
      assert.ok(secret.startsWith(key.json.key_prefix.replace(/\.+$/, '')), 'the prefix is the start of the key');
      // In the user's only team: as /api shows it.
      const asApi = await gw.api('GET', `/api/keys/${key.json.id.slice(3)}`, undefined, PROXY_MASTER_KEY);
      assert.equal(asApi.body.team_id, Number(team.json.id.slice(5)));

      const keys = await curl('GET', '/internal/api-keys');
      assert.equal(keys.status, 200, keys.text);
      assert.ok(!keys.text.includes(secret), 'the listing never shows the key');
      const listed = keys.json.data.find((k: any) => k.id === key.json.id);
      assert.equal(listed.name, 'laptop-dev');
      assert.equal(listed.key_prefix, key.json.key_prefix);
      assert.equal(listed.user_id, user.json.id);
      assert.equal(listed.key, undefined);

      const client = new OpenAI({ apiKey: secret, baseURL: gw.url + '/v1', maxRetries: 0 });
      const chat = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }] });
      assert.equal(chat.object, 'chat.completion');

      const deleted = await curl('DELETE', `/internal/api-keys/${key.json.id}`);
      assert.equal(deleted.status, 200, deleted.text);
      assert.deepEqual(deleted.json, { id: key.json.id, deleted: true });

      // Refused at once: DELETE revokes the key, as DELETE /api/keys/{id} does (403 key_revoked:
      // the key is known, and the answer says why it no longer works).
      const refused = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }] }).then(
        () => assert.fail('a deleted key must be refused'),
        (err: unknown) => err,
      );
      assert.ok(refused instanceof OpenAI.APIError, String(refused));
      assert.equal(refused.status, 403);
      assert.equal((refused.error as any)?.code, 'key_revoked');
      assert.ok(!(await curl('GET', '/internal/api-keys')).json.data.some((k: any) => k.id === key.json.id), 'no longer listed');
    });
  });
}

describe('seed 001 on two replicas (PostgreSQL + Redis): a key deleted through A is refused on B', { skip: serviceSkip('postgres') || serviceSkip('redis') }, () => {
  const masterKey = `pmk-${randomUUID()}`;
  const upstreamKey = 'sk-upstream-seed-001';
  let a: Replica;
  let b: Replica;
  let fake: FakeUpstream;
  before(async () => {
    fake = await startFakeUpstream({ requireAuth: upstreamKey });
    // As deploy/kubernetes.yaml mounts it: PROXY_MASTER_KEY only.
    const env = { ...(await clusterEnv(masterKey, upstreamKey, fake.baseUrl)), TOLLGATE_ADMIN_KEY: '', PROXY_MASTER_KEY: masterKey };
    [a, b] = await Promise.all([startReplica('a', env, masterKey), startReplica('b', env, masterKey)]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await fake?.close();
  });

  const post = async (url: string, path: string, body: unknown) => {
    const res = await fetch(url + path, { method: 'POST', headers: { Authorization: `Bearer ${masterKey}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return (await res.json()) as any;
  };

  test('create on A, warm on B, DELETE on A → B refuses it within the invalidation bound', async () => {
    const team = await post(a.url, '/internal/teams', { name: 'engineering', tpm_limit: 200000, daily_token_limit: 5000000 });
    const user = await post(a.url, '/internal/users', { external_id: 'alice@example.com', team_id: team.id });
    const key = await post(a.url, '/internal/api-keys', { name: 'laptop-dev', user_id: user.id });
    const status = () => b.openai(key.key).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).then(() => 200, (err: any) => `${err.status} ${err.code}`);
    assert.equal(await status(), 200, 'warm in B');
    const deleted = await fetch(`${a.url}/internal/api-keys/${key.id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${masterKey}` } });
    assert.equal(deleted.status, 200);
    // Bounded poll: the invalidation crosses Redis pub/sub (the design's bound is one second).
    const deadline = Date.now() + 5000;
    let got: number | string;
    while ((got = await status()) !== '403 key_revoked') {
      assert.ok(Date.now() < deadline, `replica B still answers ${got}`);
      await sleep(20);
    }
    assert.ok(!a.out().includes(masterKey) && !b.out().includes(masterKey) && !a.out().includes(key.key), 'no secret in any log line');
  });
});
