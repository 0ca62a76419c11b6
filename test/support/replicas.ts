// Tollgate replicas as an operator runs them: `node src/main.ts` children sharing one PostgreSQL
// database and one Redis, each on its own loopback port and data directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { freePort } from './services.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface Replica {
  name: string;
  url: string;
  child: ChildProcess;
  /** everything it printed so far */
  out(): string;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  openai(key: string): OpenAI;
  /** SIGTERM (drain, flush logs), then wait for exit */
  stop(): Promise<number | null>;
}

export async function startReplica(name: string, env: Record<string, string>, adminKey: string): Promise<Replica> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), `tollgate-${name}-`));
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, TOLLGATE_HOST: '127.0.0.1', TOLLGATE_PORT: String(port), TOLLGATE_DATA_DIR: dir, TOLLGATE_LOG_LEVEL: 'warn', TOLLGATE_UPSTREAM_ALLOW: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // A replica a failed test leaves behind must not outlive the test process.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  const url = `http://127.0.0.1:${port}`;
  const replica: Replica = {
    name,
    url,
    child,
    out: () => out,
    async api(method, p, body) {
      const headers: Record<string, string> = { 'x-admin-key': adminKey };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(url + p, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    openai: (key) => new OpenAI({ apiKey: key, baseURL: url + '/v1', maxRetries: 0 }),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const code = await exited;
      process.removeListener('exit', reap);
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(url + '/readyz')).ok) return replica;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  await exited;
  throw new Error(`replica ${name} did not become ready:\n${out}`);
}
