// Tollgate replicas as an operator runs them: `node src/main.ts` children sharing one PostgreSQL
// database and one Redis, each on its own loopback port and data directory.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { randomBytes, randomUUID } from 'node:crypto';
import { launchTollgate } from './tollgate-process.ts';
import { testPostgresUrl, testRedisUrl } from './services.ts';

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
  const dir = mkdtempSync(path.join(tmpdir(), `tollgate-${name}-`));
  const proc = await launchTollgate({ TOLLGATE_DATA_DIR: dir, ...env }).catch((err: Error) => {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`replica ${name}: ${err.message}`);
  });
  const { child, url } = proc;
  return {
    name,
    url,
    child,
    out: proc.out,
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
      const code = await proc.exited;
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

/**
 * The environment of replicas sharing one fresh PostgreSQL database and one Redis (under a prefix
 * of their own), with the fake upstream as their default OpenAI credential and one encryption key
 * (every replica must open what another sealed).
 */
export async function clusterEnv(adminKey: string, upstreamKey: string, upstreamBaseUrl: string, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  return {
    TOLLGATE_DATABASE_URL: (await testPostgresUrl())!,
    TOLLGATE_REDIS_URL: testRedisUrl()!,
    TOLLGATE_REDIS_PREFIX: `tg-test:${randomUUID()}:`,
    TOLLGATE_ADMIN_KEY: adminKey,
    TOLLGATE_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    OPENAI_API_KEY: upstreamKey,
    OPENAI_BASE_URL: upstreamBaseUrl + '/v1',
    ...extra,
  };
}
