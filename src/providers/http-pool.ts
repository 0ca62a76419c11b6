// Upstream connection pools: one per provider credential and origin. Organizations register
// their own credentials, so each has its own connections: a tenant that holds every connection of
// its pool (long streams, a hanging upstream) queues only its own requests, never another's.
import { Pool, type Dispatcher, type buildConnector } from 'undici';
import { DEMO_BASE_URL, DEMO_CREDENTIAL_ID, DemoDispatcher } from './demo/dispatcher.ts';

export interface PoolOptions {
  /** connections per credential and origin */
  connections: number;
  /** opens connections: the SSRF guard (src/net/guarded-connector.ts) refuses internal addresses here */
  connect?: buildConnector.connector;
}

const pools = new Map<string, Pool>();

// The demo model's base URL has no network origin (`new URL('demo://local/v1').origin` is 'null'):
// its requests are answered in process, by one dispatcher for all (src/providers/demo/).
const DEMO_ORIGINS = new Set([new URL(DEMO_BASE_URL).origin, 'demo://local']);
let demo: DemoDispatcher | undefined;

export function poolFor(origin: string, credentialId: number, opts: PoolOptions): Dispatcher {
  if (credentialId === DEMO_CREDENTIAL_ID && DEMO_ORIGINS.has(origin)) return (demo ??= new DemoDispatcher());
  const id = `${credentialId} ${origin}`;
  let pool = pools.get(id);
  if (!pool) {
    pool = new Pool(origin, {
      connections: opts.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      // Per-request timeouts are set on each dispatch (proxy/forward.ts).
      headersTimeout: 600_000,
      bodyTimeout: 600_000,
      ...(opts.connect ? { connect: opts.connect } : {}),
    });
    pools.set(id, pool);
  }
  return pool;
}

export async function closePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.allSettled(all.map((p) => p.close()));
}
