// A real Tollgate on a loopback port, for tests: embedded SQLite in a temp dir, or a fresh
// PostgreSQL database on the run's shared server. `DIALECTS` drives one suite over both.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { loadConfig } from '../../src/config.ts';
import { startRuntime, type Runtime } from '../../src/runtime.ts';
import type { Clock } from '../../src/clock.ts';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.ts';
import { testPostgresUrl, serviceSkip } from './services.ts';

export type Dialect = 'sqlite' | 'postgres';
export const DIALECTS: Dialect[] = ['sqlite', 'postgres'];
/** For describe(…, { skip }): postgres suites skip only where PostgreSQL is absent and not required. */
export const dialectSkip = (d: Dialect): string | false => (d === 'postgres' ? serviceSkip('postgres') : false);

export const ADMIN_KEY = 'test-master-admin-key-0123456789';
export const UPSTREAM_KEY = 'sk-upstream-provider-secret-abcdef';

export interface Gateway {
  url: string;
  runtime: Runtime;
  fake: FakeUpstream;
  dialect: Dialect;
  /** admin API call with the master key (or `as` another credential; `as: null` sends none) */
  api(method: string, path: string, body?: unknown, as?: string | null): Promise<{ status: number; body: any; headers: Headers }>;
  openai(key: string): OpenAI;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  dialect?: Dialect;
  clock?: Clock;
  env?: Record<string, string>;
  fake?: FakeUpstream;
  /** the loopback address to listen on (default 127.0.0.1; '::1' for IPv6 clients) */
  host?: string;
  /** the port to listen on (default: any free one); a test that must name its own URL in the config picks one first (freePort in oidc-provider.ts) */
  port?: number;
}

export async function startGateway(opts: GatewayOptions = {}): Promise<Gateway> {
  const dialect = opts.dialect ?? 'sqlite';
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-test-'));
  const ownFake = !opts.fake;
  const fake = opts.fake ?? (await startFakeUpstream({ requireAuth: UPSTREAM_KEY }));
  let databaseUrl = `sqlite:${path.join(dir, 'tollgate.db')}`;
  if (dialect === 'postgres') {
    const url = await testPostgresUrl();
    if (!url) throw new Error('PostgreSQL is not available for this test run');
    databaseUrl = url;
  }
  const config = loadConfig({
    TOLLGATE_DATA_DIR: dir,
    TOLLGATE_DATABASE_URL: databaseUrl,
    TOLLGATE_ADMIN_KEY: ADMIN_KEY,
    OPENAI_API_KEY: UPSTREAM_KEY,
    OPENAI_BASE_URL: fake.baseUrl + '/v1',
    TOLLGATE_LOG_FLUSH_MS: '50',
    // The fake upstreams listen on loopback, which the SSRF guard refuses unless allowed.
    TOLLGATE_UPSTREAM_ALLOW: '127.0.0.1',
    // Suites send wrong credentials from 127.0.0.1 on purpose (the generated security checks);
    // the throttle is tested where a test sets it.
    TOLLGATE_AUTH_FAILURES_PER_MINUTE: '0',
    ...opts.env,
  });
  const runtime = await startRuntime(config, opts.clock ? { clock: opts.clock } : {});
  const url = await runtime.app.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' });
  return {
    url,
    runtime,
    fake,
    dialect,
    async api(method, p, body, as) {
      const headers: Record<string, string> = {};
      const cred = as === undefined ? ADMIN_KEY : as;
      if (cred !== null) headers['x-admin-key'] = cred;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(url + p, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
    },
    openai: (key) => new OpenAI({ apiKey: key, baseURL: url + '/v1', maxRetries: 0 }),
    flush: () => runtime.deps.logWriter.flush(),
    async close() {
      await runtime.close();
      if (ownFake) await fake.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A clock tests can move. */
export class TestClock implements Clock {
  t: number;
  constructor(start = Date.parse('2026-03-28T12:00:00Z')) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(iso: string): void {
    this.t = Date.parse(iso);
  }
}
