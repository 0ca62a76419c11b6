// `npm test` entry point: starts ONE throwaway PostgreSQL and ONE Redis for the whole run (test files
// get fresh databases on it via test/support/services.ts), then runs `node --test` over the suite.
//
//   npm test                                  every test/**/*.test.ts and src/**/*.test.ts
//   npm test -- test/keys.test.ts test/proxy  given files / directories
//   npm test -- budget                        files whose path contains "budget"
//   npm test -- --test-name-pattern=rotate    flags (use --flag=value) are passed to node --test
//
// Without postgres/redis binaries the matching suites are skipped with a loud warning, unless CI=true
// or TOLLGATE_TEST_SERVICES=required, where that is an error. A TOLLGATE_TEST_PG_URL /
// TOLLGATE_TEST_REDIS_URL already in the environment is used instead of starting a server.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pgAvailable, redisAvailable, servicesRequired, startPostgres, startRedis } from '../test/support/services.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const PATTERNS = ['test/**/*.test.ts', 'src/**/*.test.ts'];

function selectFiles(args: string[]): string[] {
  const all = fs.globSync(PATTERNS, { cwd: ROOT }).sort();
  if (args.length === 0) return all;
  const picked = new Set<string>();
  for (const arg of args) {
    const abs = path.resolve(arg);
    const rel = path.relative(ROOT, abs);
    const stat = fs.statSync(abs, { throwIfNoEntry: false });
    const matches = stat?.isFile() ? [rel]
      : stat?.isDirectory() ? all.filter((f) => f.startsWith(rel + path.sep) || rel === '')
      : all.filter((f) => f.includes(arg));
    if (matches.length === 0) fail(`no test file matches "${arg}"`);
    for (const m of matches) picked.add(m);
  }
  return [...picked];
}

function fail(message: string): never {
  console.error(`\nscripts/test.ts: ${message}\n`);
  process.exit(1);
}

function warn(lines: string[]): void {
  const bar = '!'.repeat(78);
  console.error(['', bar, ...lines.map((l) => `!!  ${l}`), bar, ''].join('\n'));
}

interface Service { name: string; envVar: string; available: () => boolean; hint: string; start: () => Promise<{ url: string; stop(): Promise<void> }> }
const SERVICES: Service[] = [
  { name: 'PostgreSQL', envVar: 'TOLLGATE_TEST_PG_URL', available: pgAvailable, hint: 'install postgresql-15 (/usr/lib/postgresql/15/bin)', start: startPostgres },
  { name: 'Redis', envVar: 'TOLLGATE_TEST_REDIS_URL', available: redisAvailable, hint: 'apt-get install redis-server', start: startRedis },
];

const argv = process.argv.slice(2);
const nodeFlags = argv.filter((a) => a.startsWith('-'));
const files = selectFiles(argv.filter((a) => !a.startsWith('-')));
if (files.length === 0) fail('no test files found');

let child: ChildProcess | undefined;
const stops: Array<() => Promise<void>> = [];
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // The runner drains its own tests on the signal; servers are stopped once it has exited.
    if (child) child.kill(signal);
    else process.exit(128 + os.constants.signals[signal]); // still starting: exit hooks kill the servers
  });
}

// Every /api success answer is checked against its route's declared response schema (app.ts).
const env: NodeJS.ProcessEnv = { TOLLGATE_VALIDATE_RESPONSES: '1', ...process.env };
const required = servicesRequired();
const problems: string[] = [];
// Start both at once: PostgreSQL's initdb takes most of a second and Redis is near-instant.
await Promise.all(SERVICES.map(async (s) => {
  if (env[s.envVar]) return; // provided from outside
  if (!s.available()) return void problems.push(`${s.name} not found (${s.hint})`);
  try {
    const server = await s.start();
    stops.push(() => server.stop());
    env[s.envVar] = server.url;
  } catch (err) {
    problems.push(`${s.name} failed to start: ${err instanceof Error ? err.message : String(err)}`);
  }
}));

if (problems.length > 0) {
  if (required) {
    await Promise.allSettled(stops.map((stop) => stop()));
    fail(`services are required (CI=true or TOLLGATE_TEST_SERVICES=required):\n  ${problems.join('\n  ')}`);
  }
  warn([...problems, 'Suites that need these services will be SKIPPED — this run does not cover them.',
    'Set TOLLGATE_TEST_SERVICES=required to make this an error (CI does).']);
}

// The browser tests drive the dashboard as `npm start` serves it: built from this tree first.
if (!process.env.TOLLGATE_SKIP_UI_BUILD) {
  const { buildUi } = await import('./build-ui.ts');
  const built = await buildUi();
  console.log(`dashboard built (${built.ms} ms)`);
}

const args = ['--test', '--test-concurrency=3', '--test-timeout=120000', ...nodeFlags, ...files];
child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: 'inherit' });
const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
  child?.once('exit', (c, s) => resolve([c, s]));
});
// Nothing is printed after the runner's closing summary: CI reads it from the end of the log.
await Promise.allSettled(stops.map((stop) => stop()));
process.exit(code ?? 128 + (signal ? os.constants.signals[signal] : 1));
