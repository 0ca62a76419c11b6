// A real `node src/main.ts` on a loopback port, for process-level tests (restarts, signals,
// crashes). The child is killed if the test process exits first.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './services.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface Proc { child: ChildProcess; url: string; out(): string; exited: Promise<number | null> }

/** Starts Tollgate with `env` on top of the test defaults; resolves once `ready` answers 200. */
export async function launchTollgate(env: Record<string, string>, ready = '/readyz'): Promise<Proc> {
  const port = await freePort();
  const child = spawn(process.execPath, ['src/main.ts'], { cwd: ROOT, env: { ...process.env, TOLLGATE_HOST: '127.0.0.1', TOLLGATE_PORT: String(port), TOLLGATE_LOG_LEVEL: 'warn', TOLLGATE_UPSTREAM_ALLOW: '127.0.0.1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  void exited.then(() => process.removeListener('exit', reap));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(url + ready)).ok) return { child, url, out: () => out, exited };
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) break;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`tollgate did not start:\n${out}`);
}
