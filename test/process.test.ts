// Tollgate as an operator runs it: `node src/main.ts` as a child process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { startFakeUpstream } from './support/fake-upstream.ts';
import { launchTollgate, type Proc } from './support/tollgate-process.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

const launch = (env: Record<string, string>): Promise<Proc> => launchTollgate(env, '/healthz');

test('first start: generates and prints the master admin key once, registers OPENAI_API_KEY; restart keeps data', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-proc-'));
  const fake = await startFakeUpstream({ requireAuth: 'sk-from-env' });
  try {
    const env = { TOLLGATE_DATA_DIR: dir, OPENAI_API_KEY: 'sk-from-env', OPENAI_BASE_URL: fake.baseUrl + '/v1' };
    const first = await launch(env);
    const adminKey = /(sk-tga-[0-9A-Za-z]{38})/.exec(first.out())?.[1];
    assert.ok(adminKey, `admin key printed:\n${first.out()}`);
    assert.ok(existsSync(path.join(dir, 'tollgate.db')));
    assert.ok(existsSync(path.join(dir, 'encryption.key')));
    const h = { 'x-admin-key': adminKey, 'content-type': 'application/json' };
    const team = await (await fetch(first.url + '/api/teams', { method: 'POST', headers: h, body: '{"name":"Day one"}' })).json() as any;
    const key = await (await fetch(first.url + `/api/teams/${team.id}/keys`, { method: 'POST', headers: h, body: '{"name":"k"}' })).json() as any;
    const r = await new OpenAI({ apiKey: key.key, baseURL: first.url + '/v1' }).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.object, 'chat.completion', 'a newcomer can make a request at once');
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0);

    const second = await launch(env);
    try {
      assert.ok(!/sk-tga-/.test(second.out()), 'the admin key is printed only on first start');
      const teams = await (await fetch(second.url + '/api/teams', { headers: h })).json() as any;
      assert.deepEqual(teams.data.map((t: any) => t.name), ['Day one']);
      const providers = await (await fetch(second.url + '/api/providers', { headers: h })).json() as any;
      assert.equal(providers.data.length, 1, 'OPENAI_API_KEY is registered once, not on every start');
      const spend = await (await fetch(second.url + `/api/teams/${team.id}/spend`, { headers: h })).json() as any;
      assert.equal(spend.total.requests, 1, 'logs were flushed on shutdown');
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  } finally {
    await fake.close();
  }
});

test('SIGTERM drains in-flight streams, then flushes their logs', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-proc-'));
  const fake = await startFakeUpstream({ requireAuth: 'sk-up', chunkDelayMs: 30, completionTokens: 20 });
  try {
    const env = { TOLLGATE_DATA_DIR: dir, TOLLGATE_ADMIN_KEY: 'proc-admin-key-123456', OPENAI_API_KEY: 'sk-up', OPENAI_BASE_URL: fake.baseUrl + '/v1', TOLLGATE_LOG_FLUSH_MS: '60000' };
    const p = await launch(env);
    const h = { 'x-admin-key': 'proc-admin-key-123456', 'content-type': 'application/json' };
    const team = await (await fetch(p.url + '/api/teams', { method: 'POST', headers: h, body: '{"name":"Drain"}' })).json() as any;
    const key = await (await fetch(p.url + `/api/teams/${team.id}/keys`, { method: 'POST', headers: h, body: '{"name":"k"}' })).json() as any;
    const client = new OpenAI({ apiKey: key.key, baseURL: p.url + '/v1' });
    const streams = await Promise.all([1, 2, 3].map(() => client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'drain me' }], stream: true })));
    p.child.kill('SIGTERM');
    const texts = await Promise.all(streams.map(async (s) => {
      let t = '';
      for await (const c of s) t += c.choices[0]?.delta?.content ?? '';
      return t;
    }));
    for (const t of texts) assert.equal(t.split(' ').length, 20, 'each in-flight stream completed');
    assert.equal(await p.exited, 0);
    const again = await launch({ ...env, TOLLGATE_LOG_FLUSH_MS: '50' });
    try {
      const logs = await (await fetch(again.url + `/api/teams/${team.id}/logs`, { headers: h })).json() as any;
      assert.equal(logs.data.length, 3, 'the three drained requests were logged before exit');
      assert.ok(logs.data.every((l: any) => l.tokens_out === 20));
    } finally {
      again.child.kill('SIGTERM');
      await again.exited;
    }
  } finally {
    await fake.close();
  }
});

test('bad configuration fails start-up with the variable named', async () => {
  const child = spawn(process.execPath, ['src/main.ts'], { cwd: ROOT, env: { ...process.env, TOLLGATE_PORT: 'eighty' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const code = await new Promise((r) => child.on('exit', r));
  assert.equal(code, 2);
  assert.match(err, /TOLLGATE_PORT must be an integer/);
});

test('the CLI prints help and runs migrations', async () => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const c = spawn(process.execPath, ['bin/tollgate.js', ...args], { cwd: ROOT, env: { ...process.env, ...env } });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.stderr.on('data', (d) => (out += d));
      c.on('exit', (code) => resolve({ code, out }));
    });
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /serve/);
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-cli-'));
  const m1 = await run(['migrate'], { TOLLGATE_DATA_DIR: dir });
  assert.equal(m1.code, 0);
  assert.match(m1.out, /applied: 0001_init/);
  const m2 = await run(['migrate'], { TOLLGATE_DATA_DIR: dir });
  assert.match(m2.out, /up to date/);
  const bad = await run(['frobnicate']);
  assert.equal(bad.code, 2);
});
