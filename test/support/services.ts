// Throwaway PostgreSQL and Redis servers on loopback, for tests. scripts/test.ts starts one of each
// per run and hands their URLs to test files in TOLLGATE_TEST_PG_URL / TOLLGATE_TEST_REDIS_URL;
// test files take a fresh database with testPostgresUrl() and the shared Redis with testRedisUrl().
//
// Cleanup must survive crashed tests: every server is SIGKILLed by a process 'exit' hook, and a
// detached watchdog shell kills it (and deletes its temp dir) if this process dies without running
// exit hooks (SIGKILL, uncaught signal).
import { spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

export interface PgServer { url: string; createDatabase(name?: string): Promise<string>; stop(): Promise<void> }
export interface RedisServer { url: string; port: number; stop(): Promise<void>; restart(opts?: { flush?: boolean }): Promise<void> }

const PG_BIN = process.env.TOLLGATE_PG_BIN ?? '/usr/lib/postgresql/15/bin';

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir, cmd);
    try { fs.accessSync(file, fs.constants.X_OK); return file; } catch { /* keep looking */ }
  }
  return undefined;
}

/** PostgreSQL refuses to run as root, so as root we run it as the `postgres` OS user. */
function pgOwner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error('running as root but there is no `postgres` OS user to run PostgreSQL as');
  return { uid: Number(uid), gid: Number(gid) };
}

export function pgAvailable(): boolean {
  return fs.existsSync(path.join(PG_BIN, 'postgres')) && fs.existsSync(path.join(PG_BIN, 'initdb'));
}
export function redisAvailable(): boolean { return which('redis-server') !== undefined; }

export function servicesRequired(): boolean {
  return process.env.CI === 'true' || process.env.CI === '1' || process.env.TOLLGATE_TEST_SERVICES === 'required';
}

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

// ---- process management ----

interface Proc { child: ChildProcess; exited: Promise<unknown>; log: string }
const reapers = new Set<() => void>();
process.on('exit', () => { for (const reap of reapers) reap(); });

function launch(cmd: string, args: string[], dir: string, logName: string, extra: SpawnOptions = {}): Proc {
  const log = path.join(dir, logName);
  const fd = fs.openSync(log, 'a');
  const child = spawn(cmd, args, { ...extra, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  if (child.pid) fs.writeFileSync(path.join(dir, 'server.pid'), String(child.pid)); // for guard()'s watchdog
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // A server a test forgot to stop must not keep the test file alive forever (node --test waits
  // for the file's process to exit); the 'exit' hook then kills it. halt() re-refs while waiting.
  child.unref();
  child.once('error', () => { /* reported via exit/readiness timeout */ });
  return { child, exited, log };
}

/** Registers SIGKILL + temp-dir removal for when this process exits; returns the normal-path unregister. */
function guard(get: () => ChildProcess | undefined, dir: string): () => void {
  // The watchdog reads the server pid from a file at the end, since restarts change it.
  const script = 'while kill -0 "$0" 2>/dev/null; do sleep 1; done; kill -9 "$(cat "$1/server.pid")" 2>/dev/null; rm -rf "$1"';
  const watchdog = spawn('sh', ['-c', script, String(process.pid), dir], { detached: true, stdio: 'ignore' });
  watchdog.unref();
  const reap = () => {
    try { get()?.kill('SIGKILL'); } catch { /* already gone */ }
    try { watchdog.kill('SIGKILL'); } catch { /* already gone */ }
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  reapers.add(reap);
  return () => { reapers.delete(reap); try { watchdog.kill('SIGKILL'); } catch { /* gone */ } };
}

async function halt(p: Proc, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.ref();
  p.child.kill(signal);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
}

function logTail(p: Proc): string {
  try { return fs.readFileSync(p.log, 'utf8').split('\n').slice(-15).join('\n'); } catch { return '(no log)'; }
}

/** Polls `probe` until it resolves true; fails early if the process died (e.g. port taken). */
async function waitReady(p: Proc, what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) throw new Error(`${what} exited during startup:\n${logTail(p)}`);
    if (await probe().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms:\n${logTail(p)}`);
}

/** Runs `fn` on fresh ports: a probed free port can still be taken by someone else before we bind it. */
async function withPortRetry<T>(fn: (port: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try { return await fn(await freePort()); } catch (err) { if (attempt >= 3) throw err; }
  }
}

// ---- PostgreSQL ----

async function pgQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  await client.connect();
  try { await client.query(sql); } finally { await client.end(); }
}

async function createDatabaseAt(serverUrl: string, name = `t_${process.pid}_${randomBytes(5).toString('hex')}`): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name: ${name}`);
  // template0 is never connected to, so concurrent CREATE DATABASEs don't conflict.
  await pgQuery(serverUrl, `CREATE DATABASE "${name}" TEMPLATE template0`);
  const url = new URL(serverUrl);
  url.pathname = '/' + name;
  return url.toString();
}

async function run(cmd: string, args: string[], opts: SpawnOptions): Promise<void> {
  const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d) => { out += d; });
  child.stderr?.on('data', (d) => { out += d; });
  const code = await new Promise((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`${path.basename(cmd)} failed (${code}):\n${out}`);
}

/** Stops a throwaway server: its process (signal, then SIGKILL after graceMs), its crash guard, its temp dir. */
async function teardown(proc: Proc | undefined, signal: NodeJS.Signals, graceMs: number, unguard: () => void, dir: string): Promise<void> {
  if (proc) await halt(proc, signal, graceMs);
  unguard();
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

export async function startPostgres(): Promise<PgServer> {
  const owner = pgOwner();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-pg-'));
  if (owner) fs.chownSync(dir, owner.uid, owner.gid);
  let proc: Proc | undefined;
  const unguard = guard(() => proc?.child, dir);
  const as: SpawnOptions = { ...owner, env: { PATH: process.env.PATH, LANG: 'C', HOME: dir } };
  const data = path.join(dir, 'data');
  try {
    await run(path.join(PG_BIN, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'], as);
    const url = await withPortRetry(async (port) => {
      // Durability off: these databases are thrown away, and fsync dominates test time otherwise.
      const settings = ['listen_addresses=127.0.0.1', `unix_socket_directories=${dir}`, 'fsync=off', 'synchronous_commit=off',
        'full_page_writes=off', 'max_connections=300', 'log_min_messages=warning'];
      proc = launch(path.join(PG_BIN, 'postgres'), ['-D', data, '-p', String(port), ...settings.flatMap((s) => ['-c', s])], dir, 'postgres.log', as);
      const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
      await waitReady(proc, 'postgres', async () => { await pgQuery(url, 'select 1'); return true; });
      return url;
    });
    let stopped: Promise<void> | undefined;
    return {
      url,
      createDatabase: (name) => createDatabaseAt(url, name),
      stop: () => stopped ??= teardown(proc, 'SIGINT', 10_000, unguard, dir), // SIGINT = "fast" shutdown
    };
  } catch (err) {
    await teardown(proc, 'SIGKILL', 0, unguard, dir);
    throw err;
  }
}

// ---- Redis ----

/** Sends one command over a raw socket and returns the first reply line ('' if the server hung up). */
export function redisCommand(port: number, args: string[], timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let reply = '';
    sock.setTimeout(timeoutMs, () => sock.destroy(new Error('redis command timed out')));
    sock.on('connect', () => sock.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')));
    sock.on('data', (d) => { reply += d; if (reply.includes('\r\n')) { sock.end(); resolve(reply.split('\r\n')[0] ?? ''); } });
    sock.on('close', () => resolve(reply));
    sock.on('error', reject);
  });
}

export async function startRedis(): Promise<RedisServer> {
  const bin = which('redis-server');
  if (!bin) throw new Error('redis-server is not on PATH');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-redis-'));
  let proc: Proc | undefined;
  const unguard = guard(() => proc?.child, dir);
  // No automatic persistence; restart({ flush: false }) asks for one explicit RDB save instead.
  const start = async (port: number) => {
    proc = launch(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no',
      '--dir', dir, '--dbfilename', 'dump.rdb'], dir, 'redis.log');
    await waitReady(proc, 'redis-server', async () => (await redisCommand(port, ['PING'])) === '+PONG');
  };
  try {
    const port = await withPortRetry(async (p) => { await start(p); return p; });
    let stopped: Promise<void> | undefined;
    return {
      url: `redis://127.0.0.1:${port}`,
      port,
      async restart({ flush = false } = {}) {
        if (!proc) throw new Error('redis is not running');
        fs.rmSync(path.join(dir, 'dump.rdb'), { force: true });
        if (flush) await halt(proc, 'SIGTERM', 5000); // with --save '' SIGTERM does not persist
        else { await redisCommand(port, ['SHUTDOWN', 'SAVE']).catch(() => ''); await halt(proc, 'SIGTERM', 5000); }
        await start(port);
      },
      stop: () => stopped ??= teardown(proc, 'SIGTERM', 5000, unguard, dir),
    };
  } catch (err) {
    await teardown(proc, 'SIGKILL', 0, unguard, dir);
    throw err;
  }
}

// ---- helpers for test files (servers started by scripts/test.ts) ----

function missing(service: string, envVar: string): undefined {
  if (servicesRequired()) throw new Error(`${service} is required (CI / TOLLGATE_TEST_SERVICES=required) but ${envVar} is not set — run tests via \`npm test\``);
  return undefined;
}

/** A fresh empty database on the run's shared server; undefined when the run has none (throws if required). */
export async function testPostgresUrl(): Promise<string | undefined> {
  const base = process.env.TOLLGATE_TEST_PG_URL;
  return base ? createDatabaseAt(base) : missing('PostgreSQL', 'TOLLGATE_TEST_PG_URL');
}

/** The run's shared Redis (use unique key prefixes: other test files use it concurrently). */
export function testRedisUrl(): string | undefined {
  return process.env.TOLLGATE_TEST_REDIS_URL ?? missing('Redis', 'TOLLGATE_TEST_REDIS_URL');
}

/** For `describe(..., { skip: serviceSkip('postgres') })`: never skips when services are required, so they fail instead. */
export function serviceSkip(service: 'postgres' | 'redis'): string | false {
  const env = service === 'postgres' ? 'TOLLGATE_TEST_PG_URL' : 'TOLLGATE_TEST_REDIS_URL';
  if (process.env[env] || servicesRequired()) return false;
  return `${service} not available (${env} unset; install it and run via npm test)`;
}
