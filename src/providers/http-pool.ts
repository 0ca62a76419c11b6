// Upstream connection pools: one per provider credential and origin. Organizations register
// their own credentials, so each has its own connections: a tenant that holds every connection of
// its pool (long streams, a hanging upstream) queues only its own requests, never another's.
import { Pool } from 'undici';
import type { LookupFunction } from 'node:net';

export interface PoolOptions {
  /** connections per credential and origin */
  connections: number;
  /** resolves upstream host names; the SSRF guard refuses internal addresses here (DNS rebinding) */
  lookup?: LookupFunction;
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
      ...(opts.lookup ? { connect: { lookup: opts.lookup } } : {}),
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
