// Starting the things being measured, each as its own process: the lean upstream, the bare proxy,
// and Tollgate (embedded: SQLite in a temp dir; cluster: PostgreSQL + Redis).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pinned, startChild, waitHttp, type Child } from './proc.ts';
import { applyRealisticPolicy, setupTenant, type PolicyStep, type TenantIds } from '../setup.ts';
import { freePort } from '../../test/support/services.ts';
import type { ApiScenario } from './scenarios.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const node = process.execPath;

export interface Target {
  name: string;
  /** base URL requests go to (…/v1/chat/completions is appended) */
  baseUrl: string;
  /** the process whose CPU and memory are measured */
  proc: Child;
  /** Authorization header value, if the target needs one */
  auth?: string;
  policy?: PolicyStep[];
  ids?: TenantIds;
  /** the admin key (Tollgate targets only) */
  adminKey?: string;
  /** a client API other than OpenAI chat (bench/lib/scenarios.ts) */
  api?: ApiScenario;
  stop(): Promise<void>;
}

export async function startUpstream(cpus?: string): Promise<Target> {
  const [cmd, args] = pinned(cpus, node, [path.join(ROOT, 'bench/upstream.ts')]);
  const proc = startChild('upstream', cmd, args);
  const { port } = (await proc.ready) as { port: number };
  const baseUrl = `http://127.0.0.1:${port}`;
  return { name: 'direct', baseUrl, proc, stop: () => proc.stop() };
}

export async function startBareProxy(upstream: string, cpus?: string): Promise<Target> {
  const [cmd, args] = pinned(cpus, node, [path.join(ROOT, 'bench/bare-proxy.ts'), upstream]);
  const proc = startChild('bare-proxy', cmd, args);
  const { port } = (await proc.ready) as { port: number };
  return { name: 'bare', baseUrl: `http://127.0.0.1:${port}`, proc, stop: () => proc.stop() };
}

export interface TollgateOptions {
  name: string;
  upstream: string;
  /** TOLLGATE_DATABASE_URL / TOLLGATE_REDIS_URL for cluster mode */
  env?: Record<string, string>;
  nodeArgs?: string[];
  cpus?: string;
  /** skip the admin-API tenant setup (e.g. for a process that only serves pre-loaded keys) */
  noTenant?: boolean;
  /** create the tenant and its key but apply no limits or budgets anywhere (pipeline cost only) */
  noPolicy?: boolean;
  /** the models the key may call (default: gpt-4o-mini, gpt-4o) */
  models?: string[];
}

export async function startTollgate(o: TollgateOptions): Promise<Target> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `tollgate-bench-${o.name}-`));
  const port = await freePort();
  const adminKey = 'bench-admin-' + process.pid;
  // TOLLGATE_BENCH_NODE_ARGS: extra node flags for the Tollgate processes only (e.g. GC tuning).
  const extra = process.env.TOLLGATE_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const [cmd, args] = pinned(o.cpus, node, [...(o.nodeArgs ?? []), ...extra, path.join(ROOT, 'src/main.ts')]);
  const proc = startChild(o.name, cmd, args, {
    TOLLGATE_PORT: String(port),
    TOLLGATE_HOST: '127.0.0.1',
    TOLLGATE_DATA_DIR: dataDir,
    TOLLGATE_ADMIN_KEY: adminKey,
    TOLLGATE_LOG_LEVEL: 'warn',
    OPENAI_API_KEY: 'sk-upstream-bench',
    OPENAI_BASE_URL: `${o.upstream}/v1`,
    // the upstream is on loopback, which the SSRF guard refuses unless allowed
    TOLLGATE_UPSTREAM_ALLOW: '127.0.0.1',
    ...o.env,
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await proc.stop('SIGTERM', 15_000);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitHttp(proc, `${baseUrl}/healthz`);
    const target: Target = { name: o.name, baseUrl, proc, adminKey, stop };
    if (!o.noTenant) {
      target.ids = await setupTenant(baseUrl, adminKey);
      target.policy = o.noPolicy ? [] : await applyRealisticPolicy(baseUrl, adminKey, target.ids, o.models);
      target.auth = `Bearer ${target.ids.secret}`;
    }
    return target;
  } catch (err) {
    await stop();
    throw err;
  }
}

// ---- cluster services ----

export interface ClusterServices {
  databaseUrl: string;
  redisUrl: string;
  /** where they came from, for the report */
  source: string;
  stop(): Promise<void>;
}

interface ServicesModule {
  pgAvailable(): boolean;
  redisAvailable(): boolean;
  startPostgres(): Promise<{ url: string; createDatabase(name?: string): Promise<string>; stop(): Promise<void> }>;
  startRedis(): Promise<{ url: string; stop(): Promise<void> }>;
}

/**
 * PostgreSQL + Redis for cluster mode: the servers named by TOLLGATE_BENCH_PG_URL and
 * TOLLGATE_BENCH_REDIS_URL when set, else throwaway ones (test/support/services.ts, which needs the
 * PostgreSQL binaries and redis-server installed). Returns a reason string when neither works.
 */
export async function startClusterServices(): Promise<ClusterServices | string> {
  const pgEnv = process.env.TOLLGATE_BENCH_PG_URL;
  const redisEnv = process.env.TOLLGATE_BENCH_REDIS_URL;
  if (pgEnv && redisEnv) return { databaseUrl: pgEnv, redisUrl: redisEnv, source: 'TOLLGATE_BENCH_PG_URL / TOLLGATE_BENCH_REDIS_URL', stop: async () => {} };
  let services: ServicesModule;
  try {
    // Imported by path at run time: the bench must still load where the test helpers are absent.
    const modulePath = path.join(ROOT, 'test/support/services.ts');
    services = (await import(modulePath)) as ServicesModule;
  } catch (err) {
    return `cannot load test/support/services.ts (${(err as Error).message}); set TOLLGATE_BENCH_PG_URL and TOLLGATE_BENCH_REDIS_URL`;
  }
  if (!services.pgAvailable()) return 'PostgreSQL binaries not found (set TOLLGATE_PG_BIN, or TOLLGATE_BENCH_PG_URL)';
  if (!services.redisAvailable()) return 'redis-server not on PATH (apt-get install redis-server, or set TOLLGATE_BENCH_REDIS_URL)';
  const pg = await services.startPostgres();
  try {
    const redis = await services.startRedis();
    const databaseUrl = await pg.createDatabase(`bench_${process.pid}`);
    return {
      databaseUrl,
      redisUrl: redis.url,
      source: 'throwaway servers (test/support/services.ts)',
      stop: async () => {
        await redis.stop();
        await pg.stop();
      },
    };
  } catch (err) {
    await pg.stop();
    throw err;
  }
}
