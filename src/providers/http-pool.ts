// Upstream connection pools: one per provider credential and origin. Organizations register
// their own credentials, so each has its own connections: a tenant that holds every connection of
// its pool (long streams, a hanging upstream) queues only its own requests, never another's.
import { Pool, type buildConnector } from 'undici';

export interface PoolOptions {
  /** connections per credential and origin */
  connections: number;
  /** opens connections: the SSRF guard (src/net/guarded-connector.ts) refuses internal addresses here */
  connect?: buildConnector.connector;
}

const pools = new Map<string, Pool>();

export function poolFor(origin: string, credentialId: number, opts: PoolOptions): Pool {
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
