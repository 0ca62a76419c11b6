// The vault's promise, checked from the outside: a provider secret goes in (create, rotate, the
// start-up OPENAI_API_KEY) and never comes out — not in any /api answer, not in the audit trail,
// not in a log line, not in any file Tollgate writes (the database and its journal hold it sealed).
// A real Tollgate process runs a whole life cycle at debug level with the access log on: create,
// rotate, route, /v1 requests (JSON, streamed, one the upstream refuses with 401, one that falls
// back), refused inputs, delete; then every byte it printed and stored is searched for every secret.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.ts';
import { freePort } from './support/oidc-provider.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const ADMIN = 'vault-secrets-admin-key-0123456789';
// Built at run time, distinctive, never committed as values.
const secret = (what: string) => `sk-${what}-${Math.random().toString(36).slice(2, 12)}${Math.random().toString(36).slice(2, 12)}`;
const STARTUP = secret('startup');
const FIRST = secret('first');
const ROTATED = secret('rotated');
const REFUSED = secret('refused');
const FALLBACK = secret('fallback');
const NEVER_STORED = secret('never-stored');
const ALL = { STARTUP, FIRST, ROTATED, REFUSED, FALLBACK, NEVER_STORED };

let child: ChildProcess;
let output = '';
let url: string;
let dir: string;
let fake: FakeUpstream;
let down: FakeUpstream;
const answers: string[] = [];

async function api(method: string, p: string, body?: unknown) {
  const res = await fetch(url + p, { method, headers: { 'x-admin-key': ADMIN, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  answers.push(text);
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

before(async () => {
  // The fake accepts exactly one secret at a time: the one the test expects Tollgate to send.
  fake = await startFakeUpstream({ requireAuth: STARTUP });
  down = await startFakeUpstream({ failStatus: 503 });
  dir = mkdtempSync(path.join(tmpdir(), 'tollgate-vault-secrets-'));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, ['src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env, TOLLGATE_DATA_DIR: dir, TOLLGATE_HOST: '127.0.0.1', TOLLGATE_PORT: String(port), TOLLGATE_ADMIN_KEY: ADMIN,
      OPENAI_API_KEY: STARTUP, OPENAI_BASE_URL: fake.baseUrl + '/v1', TOLLGATE_UPSTREAM_ALLOW: '127.0.0.1',
      TOLLGATE_LOG_LEVEL: 'debug', TOLLGATE_ACCESS_LOG: '1', TOLLGATE_LOG_FLUSH_MS: '50',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`Tollgate exited: ${output}`);
    const up = await fetch(url + '/healthz').then((r) => r.ok, () => false);
    if (up) break;
    if (i > 200) throw new Error(`Tollgate did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

after(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  await fake?.close();
  await down?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('no provider secret in any answer, audit row, log line or file through a whole life cycle', async () => {
  const team = (await api('POST', '/api/teams', { name: 'Vault team' })).body;
  const key = (await api('POST', `/api/teams/${team.id}/keys`, { name: 'vault key' })).body.key as string;
  const client = new OpenAI({ apiKey: key, baseURL: url + '/v1', maxRetries: 0 });
  const ask = (model: string) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hello' }] });

  // The start-up credential (catch-all) is used once.
  await ask('gpt-4o-mini');

  // Create; route; use (JSON and streamed).
  const created = await api('POST', '/api/providers', { name: 'vaulted', provider: 'openai', base_url: fake.baseUrl + '/v1', api_key: FIRST, models: ['vault-model'] });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.api_key_hint, `...${FIRST.slice(-4)}`);
  fake.options.requireAuth = FIRST;
  await ask('vault-model');
  const stream = await client.chat.completions.create({ model: 'vault-model', stream: true, messages: [{ role: 'user', content: 'hello' }] });
  for await (const _ of stream) { /* drained */ }
  assert.equal(fake.requests.at(-1)?.headers.authorization, `Bearer ${FIRST}`, 'the secret did go upstream');

  // Rotate; the next request uses the new secret.
  assert.equal((await api('POST', `/api/providers/${created.body.id}/rotate`, { api_key: ROTATED })).status, 200);
  fake.options.requireAuth = ROTATED;
  await ask('vault-model');

  // A credential the upstream refuses (401): the client gets an error, and nothing of the secret.
  const refused = (await api('POST', '/api/providers', { name: 'refused', provider: 'openai', base_url: fake.baseUrl + '/v1', api_key: REFUSED, models: ['refused-model'] })).body;
  const err = await ask('refused-model').then(() => undefined, (e: Error) => e);
  assert.ok(err, 'the upstream refused the credential');
  answers.push(JSON.stringify(err), String(err));

  // A fallback: a down deployment first, then the rotated credential.
  const fallback = (await api('POST', '/api/providers', { name: 'down', provider: 'openai', base_url: down.baseUrl + '/v1', api_key: FALLBACK, models: ['down-own'] })).body;
  const route = await api('POST', '/api/routes', { model: 'fallback-model', deployments: [{ credential_id: fallback.id, priority: 1 }, { credential_id: created.body.id }] });
  assert.equal(route.status, 201, JSON.stringify(route.body));
  await ask('fallback-model');
  assert.equal(down.requests.at(-1)?.headers.authorization, `Bearer ${FALLBACK}`);

  // Refused inputs carrying a secret: the error names the field, never echoes the value.
  assert.equal((await api('POST', '/api/providers', { name: 'bad', provider: 'openai', base_url: 'ftp://nowhere', api_key: NEVER_STORED })).status, 400);
  assert.equal((await api('POST', '/api/providers', { name: 'bad', provider: 'no-such-provider', api_key: NEVER_STORED })).status, 400);
  assert.equal((await api('PATCH', `/api/providers/${created.body.id}`, { api_key: NEVER_STORED })).status, 400);
  assert.equal((await api('POST', `/api/providers/${created.body.id}/rotate`, { api_key: NEVER_STORED, extra: NEVER_STORED })).status, 400);

  // Everything an admin can read back.
  await api('GET', '/api/providers');
  await api('GET', '/api/routes');
  await api('GET', '/api/models');
  await api('GET', '/api/audit?limit=1000');
  await api('GET', '/api/logs?limit=1000');

  // Delete them all; then stop Tollgate so every log line and file is written.
  for (const id of [created.body.id, refused.id, fallback.id]) assert.equal((await api('DELETE', `/api/providers/${id}`)).status, 200);
  await api('GET', '/api/audit?limit=1000');
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));

  // The capture is real: request lines and the failed attempts were logged.
  const lines = output.split('\n').filter(Boolean);
  assert.ok(lines.length > 20, `captured ${lines.length} log lines`);
  assert.match(output, /refused-model|upstream/);

  const files = walk(dir).map((f) => ({ f, text: readFileSync(f).toString('latin1') }));
  assert.ok(files.some((x) => x.f.endsWith('.db')), 'the database file was searched');
  for (const [name, value] of Object.entries(ALL)) {
    // The whole secret and its distinctive part without the 4-character hint.
    for (const needle of [value, value.slice(0, -4)]) {
      assert.ok(!output.includes(needle), `${name} appears in the logs`);
      for (const a of answers) assert.ok(!a.includes(needle), `${name} appears in an answer: ${a.slice(0, 200)}`);
      for (const { f, text } of files) assert.ok(!text.includes(needle), `${name} appears in ${path.relative(dir, f)}`);
    }
  }
});

function walk(d: string): string[] {
  return readdirSync(d).flatMap((n) => {
    const p = path.join(d, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}
