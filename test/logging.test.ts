// Log lines as an operator gets them: a real `node src/main.ts` with the access log on, called
// with credentials in every header that can carry one (and a secret in a body and a query string).
// Every stdout line is a JSON object; each /api request has its line with the request id it sent
// back (x-request-id), its route, status, time and caller; no secret appears anywhere in the
// output. Then the human-readable format (TOLLGATE_LOG_FORMAT) and the redaction of header paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PassThrough } from 'node:stream';
import Fastify from 'fastify';
import OpenAI from 'openai';
import { startFakeUpstream } from './support/fake-upstream.ts';
import { launchTollgate } from './support/tollgate-process.ts';
import { formatPretty, loggerOptions, targetIds } from '../src/logging.ts';

const ADMIN_KEY = 'logging-test-master-admin-key-0123456789';
const UPSTREAM_KEY = 'sk-upstream-secret-for-logging-0123';

test('every log line is JSON with the request id; no credential, body or query string is logged', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-logging-'));
  const fake = await startFakeUpstream({ requireAuth: UPSTREAM_KEY });
  const proc = await launchTollgate({
    TOLLGATE_DATA_DIR: dir, TOLLGATE_ADMIN_KEY: ADMIN_KEY, OPENAI_API_KEY: UPSTREAM_KEY, OPENAI_BASE_URL: fake.baseUrl + '/v1',
    TOLLGATE_LOG_LEVEL: 'info', TOLLGATE_ACCESS_LOG: 'true', TOLLGATE_LOG_FORMAT: 'auto',
  });
  let stdout = '';
  proc.child.stdout!.on('data', (d) => (stdout += d));
  try {
    const secrets: string[] = [ADMIN_KEY, UPSTREAM_KEY];
    const calls: Array<{ id: string; method: string; route: string; status: number; actor: string | null }> = [];
    const call = async (method: string, p: string, headers: Record<string, string>, body?: unknown, route = p.split('?')[0]!, actor: string | null = 'admin_key:master') => {
      const res = await fetch(proc.url + p, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
      const id = res.headers.get('x-request-id');
      assert.match(id ?? '', /^[0-9a-f-]{36}$/, `${method} ${p} sends back its request id`);
      calls.push({ id: id!, method, route, status: res.status, actor });
      return { status: res.status, body: (await res.json()) as any };
    };

    const team = await call('POST', '/api/teams', { authorization: `Bearer ${ADMIN_KEY}` }, { name: 'Body secret team-body-marker-4821' });
    assert.equal(team.status, 201);
    secrets.push('team-body-marker-4821');
    const key = await call('POST', `/api/teams/${team.body.id}/keys`, { 'x-admin-key': ADMIN_KEY }, { name: 'k' }, '/api/teams/:id/keys');
    secrets.push(key.body.key);
    const mk = await call('POST', '/api/management-keys', { 'x-admin-key': ADMIN_KEY }, { name: 'automation', role: 'admin' });
    secrets.push(mk.body.key);
    const mkRef = `admin_key:${mk.body.id}`;
    assert.equal((await call('GET', '/api/teams', { authorization: `Bearer ${mk.body.key}`, cookie: 'tollgate_session=tgs_cookie-secret-77', 'x-csrf-token': 'tgc_csrf-secret-77', 'x-api-key': 'x-api-key-secret-77', 'x-goog-api-key': 'x-goog-secret-77', 'api-key': 'azure-api-key-secret-77' }, undefined, '/api/teams', mkRef)).status, 200);
    secrets.push('tgs_cookie-secret-77', 'tgc_csrf-secret-77', 'x-api-key-secret-77', 'x-goog-secret-77', 'azure-api-key-secret-77');
    assert.equal((await call('GET', '/api/logs?model=query-secret-77&limit=5', { 'x-admin-key': ADMIN_KEY })).status, 200);
    secrets.push('query-secret-77');
    assert.equal((await call('GET', '/api/teams', { 'x-admin-key': 'wrong-admin-key-secret-77' }, undefined, '/api/teams', null)).status, 401);
    secrets.push('wrong-admin-key-secret-77');
    assert.equal((await call('GET', '/api/teams/424242', { 'x-admin-key': ADMIN_KEY }, undefined, '/api/teams/:id')).status, 404);
    const chat = await new OpenAI({ apiKey: key.body.key, baseURL: proc.url + '/v1', maxRetries: 0 }).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'prompt-secret-77' }] });
    assert.equal(chat.object, 'chat.completion');
    secrets.push('prompt-secret-77');

    await sleep(300);
    const lines = stdout.split('\n').filter(Boolean);
    assert.ok(lines.length >= calls.length, `one line per /api request at least:\n${stdout}`);
    const parsed = lines.map((line) => {
      try {
        return JSON.parse(line) as Record<string, any>;
      } catch {
        throw new Error(`a stdout line is not JSON: ${line}`);
      }
    });
    for (const o of parsed) {
      assert.equal(typeof o.level, 'string', JSON.stringify(o));
      assert.match(o.time, /^\d{4}-\d{2}-\d{2}T/);
      assert.equal(typeof o.msg, 'string');
    }
    for (const c of calls) {
      const line = parsed.find((o) => o.request_id === c.id && o.msg === 'api request');
      assert.ok(line, `an access line for ${c.method} ${c.route} (${c.id}):\n${stdout}`);
      assert.deepEqual([line.method, line.route, line.status], [c.method, c.route, c.status]);
      assert.equal(typeof line.ms, 'number');
      assert.equal(line.actor ?? null, c.actor, `${c.method} ${c.route}: the caller`);
      if (c.actor) assert.equal(line.org_id, 1);
      if (c.route === '/api/teams/:id/keys') assert.equal(line.team_id, team.body.id, 'the team the route acts on');
    }
    const everything = proc.out() + stdout;
    for (const s of secrets) assert.ok(!everything.includes(s), `${s.slice(0, 12)}… appears in the output`);
  } finally {
    proc.child.kill('SIGTERM');
    await proc.exited;
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('TOLLGATE_LOG_FORMAT: JSON off a terminal, human-readable on one (auto) or when asked; header paths redacted', async () => {
  const capture = async (format: 'json' | 'pretty' | 'auto', isTTY: boolean) => {
    const out = Object.assign(new PassThrough(), { isTTY });
    let text = '';
    out.on('data', (d) => (text += d));
    const app = Fastify({ logger: loggerOptions({ logLevel: 'info', logFormat: format }, out) });
    await app.ready();
    app.log.info({ team_id: 7, headers: { authorization: 'Bearer s3cret-a', 'x-admin-key': 's3cret-b' }, req: { headers: { cookie: 's3cret-c' } } }, 'hello there');
    await app.close();
    await sleep(20);
    return text;
  };
  const json = await capture('auto', false);
  const o = JSON.parse(json.trim().split('\n')[0]!);
  assert.equal(o.msg, 'hello there');
  assert.equal(o.level, 'info');
  assert.equal(o.team_id, 7);
  assert.equal(o.headers.authorization, '[redacted]');
  assert.equal(o.headers['x-admin-key'], '[redacted]');
  assert.ok(!json.includes('s3cret'), json);

  for (const [format, tty] of [['auto', true], ['pretty', false]] as const) {
    const text = await capture(format, tty);
    const line = text.split('\n')[0]!;
    assert.throws(() => JSON.parse(line), `${format}: not JSON`);
    assert.match(line.replace(/\x1b\[[0-9;]*m/g, ''), /^\d{2}:\d{2}:\d{2}\.\d{3} INFO  hello there {2}team_id=7 /);
    assert.ok(!text.includes('s3cret'), text);
    assert.equal(/\x1b\[/.test(line), tty, 'colored on a terminal only');
  }
  assert.equal(formatPretty('not json', false), 'not json\n');
  assert.deepEqual(targetIds('/api/teams/:id/keys/:keyId', { id: '4', keyId: '9' }), { team_id: 4, key_id: 9 });
  assert.deepEqual(targetIds('/api/keys/:id', { id: '12' }), { key_id: 12 });
  assert.deepEqual(targetIds('/api/teams/:id', { id: 'abc' }), {});
  assert.deepEqual(targetIds('/api/users/:id', { id: '3' }), {});
  assert.deepEqual(targetIds('/internal/api-keys/:id', { id: 'ak_40' }), { key_id: 40 });
  assert.deepEqual(targetIds('/internal/api-keys/:id', { id: '40' }), { key_id: 40 });
  assert.deepEqual(targetIds('/internal/api-keys/:id', { id: 'ak_x' }), {});
});

test('every header that carries a key is redacted wherever a line holds headers', async () => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => { text += d; });
  const app = Fastify({ logger: loggerOptions({ logLevel: 'info', logFormat: 'json' }, out) });
  const headers = { authorization: 'Bearer bearer-secret-9', 'x-api-key': 'anthropic-secret-9', 'x-goog-api-key': 'gemini-secret-9', 'api-key': 'azure-secret-9', 'x-admin-key': 'admin-secret-9', cookie: 'tollgate_session=cookie-secret-9' };
  app.log.info({ headers }, 'headers on their own');
  app.log.info({ req: { headers } }, 'a request');
  app.log.info({ upstream: { headers } }, 'nested');
  await app.close();
  await sleep(20);
  assert.match(text, /nested/);
  for (const secret of Object.values(headers)) assert.ok(!text.includes(secret.split(' ').pop()!.split('=').pop()!), `${secret} in a log line`);
});
