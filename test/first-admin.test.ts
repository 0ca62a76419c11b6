// The first admin who can sign in, from TOLLGATE_ADMIN_EMAIL + TOLLGATE_ADMIN_PASSWORD at start
// (real `node src/main.ts` processes on one database, restarted; replicas starting together on
// PostgreSQL) and from `tollgate users create-admin --password-stdin`. The password is never printed.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { DIALECTS, dialectSkip, type Dialect } from './support/gateway.ts';
import { launchTollgate, type Proc } from './support/tollgate-process.ts';
import { testPostgresUrl } from './support/services.ts';
import { loadConfig } from '../src/config.ts';
import { startRuntime, type Runtime } from '../src/runtime.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const EMAIL = 'first.admin@example.com';
const PASSWORD = 'first-admin-password-42';
const ADMIN_KEY = 'first-admin-test-master-key-0123456789';

type Reply = { status: number; body: any; headers: Headers };

async function call(url: string, method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url + p, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** Tollgate in this process (quicker to start than a child), listening on a loopback port. */
async function inProcess(env: Record<string, string>): Promise<{ url: string; runtime: Runtime; close(): Promise<void> }> {
  const runtime = await startRuntime(loadConfig({ TOLLGATE_UPSTREAM_ALLOW: '127.0.0.1', ...env }));
  const url = await runtime.app.listen({ port: 0, host: '127.0.0.1' });
  return { url, runtime, close: () => runtime.close() };
}

async function stop(proc: Proc): Promise<void> {
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGTERM');
  await proc.exited;
}

/** `node src/cli.ts <args>` with `stdin` written to it; its exit code and output. */
function cli(args: string[], env: Record<string, string>, stdin: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['src/cli.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, out });
    });
    child.stdin.end(stdin);
  });
}

for (const dialect of DIALECTS) describe(`first admin (${dialect})`, { skip: dialectSkip(dialect) }, () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(path.join(tmpdir(), 'tollgate-first-admin-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  /** one database (a fresh one per call), shared by every process given this env */
  async function databaseEnv(d: Dialect): Promise<Record<string, string>> {
    const dataDir = tempDir();
    const url = d === 'postgres' ? await testPostgresUrl() : `sqlite:${path.join(dataDir, 'tollgate.db')}`;
    if (!url) throw new Error('PostgreSQL is not available for this test run');
    return { TOLLGATE_DATA_DIR: dataDir, TOLLGATE_DATABASE_URL: url, TOLLGATE_ADMIN_KEY: ADMIN_KEY, TOLLGATE_ENCRYPTION_KEY: randomBytes(32).toString('hex'), TOLLGATE_LOG_LEVEL: 'info' };
  }

  test('created at first start, exactly once across a restart; a password changed since is left alone; never printed', async () => {
    const env = { ...(await databaseEnv(dialect)), TOLLGATE_ADMIN_EMAIL: EMAIL, TOLLGATE_ADMIN_PASSWORD: PASSWORD, TOLLGATE_COOKIE_SECURE: 'true' };
    const first = await launchTollgate(env);
    let output = '';
    try {
      const login = await call(first.url, 'POST', '/api/auth/login', { email: EMAIL, password: PASSWORD });
      assert.equal(login.status, 200, JSON.stringify(login.body));
      assert.equal(login.body.user.role, 'admin');
      assert.match(login.headers.get('set-cookie')!, /; Secure/, 'TOLLGATE_COOKIE_SECURE=true');
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
      const changed = await call(first.url, 'PUT', '/api/me/password', { current_password: PASSWORD, new_password: 'changed-since-first-start' }, { cookie, 'x-csrf-token': login.body.csrf_token });
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
    } finally {
      await stop(first);
      output += first.out();
    }
    assert.match(first.out(), /first admin from TOLLGATE_ADMIN_EMAIL/);
    assert.match(first.out(), /"outcome":"created"/);

    const second = await launchTollgate(env);
    try {
      const users = await call(second.url, 'GET', '/api/users?limit=1000', undefined, { 'x-admin-key': ADMIN_KEY });
      assert.equal(users.body.data.filter((u: { email: string | null }) => u.email === EMAIL).length, 1, 'one user, not two');
      assert.equal((await call(second.url, 'POST', '/api/auth/login', { email: EMAIL, password: PASSWORD })).status, 401, 'the environment does not reset a password');
      assert.equal((await call(second.url, 'POST', '/api/auth/login', { email: EMAIL, password: 'changed-since-first-start' })).status, 200);
    } finally {
      await stop(second);
      output += second.out();
    }
    assert.doesNotMatch(second.out(), /first admin from TOLLGATE_ADMIN_EMAIL/, 'nothing done, nothing said');
    assert.ok(!output.includes(PASSWORD) && !output.includes('changed-since-first-start'), 'a password was printed');
  });

  test('replicas starting together on one database create one admin', { skip: dialect === 'sqlite' ? 'SQLite: one process per database' : false }, async () => {
    const shared = await databaseEnv(dialect);
    const started = await Promise.allSettled([1, 2, 3].map(() => inProcess({ ...shared, TOLLGATE_DATA_DIR: tempDir(), TOLLGATE_ADMIN_EMAIL: EMAIL, TOLLGATE_ADMIN_PASSWORD: PASSWORD })));
    // the ones that started are closed even when another failed to (the process would not end)
    const replicas = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    try {
      for (const s of started) if (s.status === 'rejected') throw s.reason;
      const users = await call(replicas[0]!.url, 'GET', '/api/users?limit=1000', undefined, { 'x-admin-key': ADMIN_KEY });
      assert.equal(users.body.data.filter((u: { email: string | null }) => u.email === EMAIL).length, 1);
      assert.deepEqual(replicas.map((r) => r.runtime.boot.firstAdmin?.outcome).sort(), ['created', 'unchanged', 'unchanged']);
      for (const r of replicas) assert.equal((await call(r.url, 'POST', '/api/auth/login', { email: EMAIL, password: PASSWORD })).status, 200);
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
    }
  });

  test('an existing user without a password gets it and becomes admin', async () => {
    const env = await databaseEnv(dialect);
    const plain = await inProcess(env);
    try {
      assert.equal(plain.runtime.boot.firstAdmin, undefined);
      assert.equal((await call(plain.url, 'POST', '/api/users', { external_id: 'ops-1', email: 'Ops@Example.com', role: 'member' }, { 'x-admin-key': ADMIN_KEY })).status, 201);
    } finally {
      await plain.close();
    }
    const withEnv = await inProcess({ ...env, TOLLGATE_ADMIN_EMAIL: 'ops@example.com', TOLLGATE_ADMIN_PASSWORD: PASSWORD });
    try {
      assert.equal(withEnv.runtime.boot.firstAdmin?.outcome, 'password_set');
      const login = await call(withEnv.url, 'POST', '/api/auth/login', { email: 'ops@example.com', password: PASSWORD });
      assert.equal(login.status, 200);
      assert.equal(login.body.user.external_id, 'ops-1');
      assert.equal(login.body.user.role, 'admin');
    } finally {
      await withEnv.close();
    }
  });

  test('tollgate users create-admin --password-stdin: creates, leaves alone, --reset replaces and ends sessions', async () => {
    const env = await databaseEnv(dialect);
    const boot = await inProcess(env);
    try {
      const created = await cli(['users', 'create-admin', '--email', 'cli@example.com', '--password-stdin'], env, 'cli-password-123456\n');
      assert.equal(created.code, 0, created.out);
      assert.match(created.out, /^created admin cli@example.com \(user \d+\) in organization default\n$/);
      const login = await call(boot.url, 'POST', '/api/auth/login', { email: 'cli@example.com', password: 'cli-password-123456' });
      assert.equal(login.status, 200, 'the trailing newline is not part of the password');
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!;

      const again = await cli(['users', 'create-admin', '--email', 'cli@example.com', '--password-stdin'], env, 'another-password-123\n');
      assert.equal(again.code, 0, again.out);
      assert.match(again.out, /left unchanged/);
      assert.equal((await call(boot.url, 'GET', '/api/me', undefined, { cookie })).status, 200);

      const reset = await cli(['users', 'create-admin', '--email', 'cli@example.com', '--password-stdin', '--reset'], env, 'another-password-123\n');
      assert.equal(reset.code, 0, reset.out);
      assert.equal((await call(boot.url, 'GET', '/api/me', undefined, { cookie })).body.error.code, 'session_expired');
      assert.equal((await call(boot.url, 'POST', '/api/auth/login', { email: 'cli@example.com', password: 'another-password-123' })).status, 200);

      const short = await cli(['users', 'create-admin', '--email', 'short@example.com', '--password-stdin'], env, 'short\n');
      assert.equal(short.code, 2);
      assert.match(short.out, /at least 12 characters/);
      const usage = await cli(['users', 'create-admin', '--email', 'x@example.com'], env, '');
      assert.equal(usage.code, 2);
      for (const r of [created, again, reset]) assert.ok(!r.out.includes('password-123'), 'a password was printed');
    } finally {
      await boot.close();
    }
  });
});
