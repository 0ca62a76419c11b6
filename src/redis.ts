// Redis connections for cluster mode (counters, cache invalidation). Tuned to fail fast: when Redis
// is unreachable a command errors within `timeoutMs` instead of queueing, so a request never hangs
// on it and memory stays bounded (no offline queue). ioredis keeps reconnecting in the background.
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis, type Cluster } from 'ioredis';

/** A connection to a single Redis / Valkey, or to a Redis Cluster (keys routed by hash slot). */
export type RedisClient = Redis | Cluster;

export interface RedisConnectionOptions {
  url: string;
  /** per-command timeout, and the bound on the initial connection wait */
  timeoutMs: number;
}

/**
 * `subscriber`: a connection for SUBSCRIBE. `batched`: its caller already sends one command per
 * event-loop turn (the counter store's batches), so ioredis' auto-pipelining would only add work.
 */
export function openRedis(opts: RedisConnectionOptions, extra: { subscriber?: boolean; batched?: boolean } = {}): Redis {
  const redis = new Redis(opts.url, {
    // Commands issued while disconnected fail at once instead of piling up in memory.
    enableOfflineQueue: extra.subscriber === true, // a subscriber must queue its SUBSCRIBE until connected
    commandTimeout: extra.subscriber ? undefined : opts.timeoutMs,
    // An admission script must not be re-sent after a reconnect: it may have run already. A
    // subscriber's queue holds only its SUBSCRIBE, which it re-sends on every 'ready' itself.
    maxRetriesPerRequest: extra.subscriber ? null : 0,
    connectTimeout: Math.max(opts.timeoutMs, 1000),
    // Reconnect forever, backing off to 1 s: Redis coming back must be noticed quickly.
    retryStrategy: (times) => Math.min(times * 100, 1000),
    autoResubscribe: false,
    lazyConnect: false,
    // Commands issued in the same tick go out in one write (syscalls dominate).
    enableAutoPipelining: extra.subscriber !== true && extra.batched !== true,
  });
  // Connection errors are reported through failed commands and /readyz; without a listener
  // ioredis would print every reconnection attempt as an unhandled error.
  redis.on('error', () => {});
  return redis;
}

/** Waits until the connection is ready, at most `ms`; start-up goes on without Redis (not ready). */
export async function waitReady(redis: Redis, ms: number): Promise<boolean> {
  if (redis.status === 'ready') return true;
  const ac = new AbortController();
  const ready = await Promise.race([
    once(redis, 'ready', { signal: ac.signal }).then(() => true, () => false),
    sleep(ms, false, { signal: ac.signal }).catch(() => false),
  ]);
  ac.abort();
  return ready;
}

/** PING with the connection's command timeout; false rather than an error. */
export async function pingRedis(redis: RedisClient): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  try {
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  }
}

/** Closes politely if connected (QUIT), at once otherwise. */
export async function closeRedis(redis: RedisClient): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
