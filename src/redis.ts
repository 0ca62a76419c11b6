// Redis connections for cluster mode (counters, cache invalidation), to a single Redis / Valkey or
// to a Redis Cluster / Valkey Cluster. Tuned to fail fast: when Redis (or the shard a command needs)
// is unreachable a command errors within `timeoutMs` instead of queueing, so a request never hangs
// on it and memory stays bounded (no offline queue). ioredis keeps reconnecting in the background.
//
// No command is ever sent twice: an admission script that reached a server which then died may
// have run, so running it again could count one request twice. Only answers Redis gives BEFORE
// running anything (MOVED, ASK, and TRYAGAIN during a slot migration, which ioredis always retries)
// are followed; a closed connection, CLUSTERDOWN or a timeout fail the command, and the engine
// fails closed (or open, per TOLLGATE_FAIL_OPEN).
import { EventEmitter, once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { redisUrls } from './redis-url.ts';

/** A connection to a single Redis / Valkey, or to a Redis Cluster (keys routed by hash slot). */
export type RedisClient = Redis | Cluster;

export interface RedisConnectionOptions {
  /** one redis:// or rediss:// URL; with `cluster`, one or more seed nodes separated by commas */
  url: string;
  /** per-command timeout, and the bound on the initial connection wait */
  timeoutMs: number;
  /** a Redis Cluster / Valkey Cluster: the URLs are seeds, the rest of the nodes is discovered */
  cluster?: boolean;
}

/** Reconnect forever, backing off to 1 s: Redis coming back must be noticed quickly. */
const backoff = (times: number): number => Math.min(times * 100, 1000);

function nodeOf(url: URL): { host: string; port: number } {
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 6379) };
}

/** What every node connection of a cluster shares: credentials and TLS from the first seed. */
function authOf(url: URL): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  return {
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/**
 * `subscriber`: a connection for SUBSCRIBE (single Redis; see openSubscriber()). `batched`: its
 * caller already sends one command per event-loop turn (the counter store's batches, one per
 * shard), so ioredis' auto-pipelining would only add work.
 */
export function openRedis(opts: RedisConnectionOptions, extra: { subscriber?: boolean; batched?: boolean } = {}): RedisClient {
  if (opts.cluster) {
    if (extra.subscriber) throw new Error('a cluster subscriber is opened with openSubscriber()');
    return openCluster(opts, extra.batched === true);
  }
  const redis = new Redis(opts.url, {
    // Commands issued while disconnected fail at once instead of piling up in memory.
    enableOfflineQueue: extra.subscriber === true, // a subscriber must queue its SUBSCRIBE until connected
    commandTimeout: extra.subscriber ? undefined : opts.timeoutMs,
    // An admission script must not be re-sent after a reconnect: it may have run already. A
    // subscriber's queue holds only its SUBSCRIBE, which it re-sends on every 'ready' itself.
    maxRetriesPerRequest: extra.subscriber ? null : 0,
    connectTimeout: Math.max(opts.timeoutMs, 1000),
    retryStrategy: backoff,
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

function openCluster(opts: RedisConnectionOptions, batched: boolean): Cluster {
  const urls = redisUrls(opts.url);
  for (const u of urls) {
    if (u.pathname.length > 1 && u.pathname !== '/0') throw new Error('a Redis Cluster has only database 0: remove the /<db> from TOLLGATE_REDIS_URL');
  }
  const options: ClusterOptions = {
    enableOfflineQueue: false,
    enableAutoPipelining: !batched,
    // Every command goes to the master of its slot: counters must be read where they are written.
    scaleReads: 'master',
    // A command whose connection closed may have run (see the top of this file): never re-sent.
    retryDelayOnFailover: 0,
    // CLUSTERDOWN means "not run", but a delayed retry could run an admission after its request
    // was already answered 503: fail now, the next request finds the promoted replica.
    retryDelayOnClusterDown: 0,
    // Slot map: refreshed on every MOVED (how a failover shows first), and at least this often.
    slotsRefreshInterval: 2000,
    slotsRefreshTimeout: Math.max(opts.timeoutMs, 1000),
    clusterRetryStrategy: backoff,
    redisOptions: {
      ...authOf(urls[0]!),
      commandTimeout: opts.timeoutMs,
      maxRetriesPerRequest: 0,
      connectTimeout: Math.max(opts.timeoutMs, 1000),
      autoResubscribe: false,
    },
  };
  const cluster = new Cluster(urls.map(nodeOf), options);
  cluster.on('error', () => {});
  cluster.on('node error', () => {});
  // ioredis connects to a node on its first command, and without an offline queue the commands
  // issued while that connection is being made fail: the first burst after start-up or after a
  // failover would be refused. Connect to every master as soon as it is known instead.
  cluster.on('+node', (node: Redis) => {
    if (!node.options.readOnly && node.status === 'wait') node.connect().catch(() => {});
  });
  // A replica promoted by a failover was known (unconnected) as a replica: no '+node' for it.
  cluster.on('refresh', () => {
    for (const node of cluster.nodes('master')) if (node.status === 'wait') node.connect().catch(() => {});
  });
  return cluster;
}

/** What the cache invalidator needs of its subscribed connection, single Redis or cluster. */
export interface Subscriber {
  readonly status: string;
  on(event: 'ready', listener: () => void): unknown;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  subscribe(channel: string): Promise<unknown>;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/**
 * A connection in subscriber mode. On a cluster, classic PUBLISH is broadcast to every node
 * (masters and replicas), so one connection to any node hears every message; `discover` lists the
 * nodes currently known (the publishing Cluster's), to hop to another one when this one dies.
 */
export function openSubscriber(opts: RedisConnectionOptions, discover?: () => Array<{ host: string; port: number }>): Subscriber {
  if (!opts.cluster) return openRedis(opts, { subscriber: true }) as Redis;
  return new ClusterSubscriber(redisUrls(opts.url), opts.timeoutMs, discover ?? (() => []));
}

/** The nodes a Cluster connection currently knows. */
export function clusterNodes(cluster: Cluster): Array<{ host: string; port: number }> {
  return cluster.nodes('all').flatMap((n) => (n.options.host && n.options.port ? [{ host: n.options.host, port: n.options.port }] : []));
}

/**
 * A subscriber connection to one node of a cluster at a time: when that node dies (failover,
 * restart), the next known node is tried, then the next, backing off to 1 s once all failed. Each
 * new connection emits 'ready', and the invalidator subscribes again and forgets what it cached
 * (messages sent meanwhile are lost). ioredis' own cluster subscriber hops too, but silently: the
 * invalidator could not know that it missed messages.
 */
class ClusterSubscriber extends EventEmitter implements Subscriber {
  status: 'connecting' | 'ready' | 'end' = 'connecting';
  private conn: Redis | undefined;
  private next = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly seeds: Array<{ host: string; port: number }>;
  private readonly auth: Pick<RedisOptions, 'username' | 'password' | 'tls'>;
  private readonly timeoutMs: number;
  private readonly discover: () => Array<{ host: string; port: number }>;

  constructor(seeds: URL[], timeoutMs: number, discover: () => Array<{ host: string; port: number }>) {
    super();
    this.timeoutMs = timeoutMs;
    this.discover = discover;
    this.seeds = seeds.map(nodeOf);
    this.auth = authOf(seeds[0]!);
    this.connect();
  }

  /** The node this subscriber listens on now (for tests and messages). */
  get node(): string | undefined {
    return this.conn && this.status === 'ready' ? `${this.conn.options.host}:${this.conn.options.port}` : undefined;
  }

  subscribe(channel: string): Promise<unknown> {
    if (!this.conn) return Promise.reject(new Error('the subscriber is not connected'));
    return this.conn.subscribe(channel);
  }

  async quit(): Promise<unknown> {
    this.status = 'end';
    clearTimeout(this.timer);
    const conn = this.conn;
    this.conn = undefined;
    if (conn?.status === 'ready') return conn.quit().catch(() => conn.disconnect());
    conn?.disconnect();
    return undefined;
  }

  disconnect(): void {
    this.status = 'end';
    clearTimeout(this.timer);
    this.conn?.disconnect();
    this.conn = undefined;
  }

  private candidates(): Array<{ host: string; port: number }> {
    const seen = new Set<string>();
    const out: Array<{ host: string; port: number }> = [];
    for (const n of [...this.seeds, ...this.discover()]) {
      const key = `${n.host}:${n.port}`;
      if (!seen.has(key)) { seen.add(key); out.push(n); }
    }
    return out;
  }

  private connect(): void {
    if (this.status === 'end') return;
    const nodes = this.candidates();
    const node = nodes[this.next++ % nodes.length]!;
    const conn = new Redis({
      ...this.auth,
      host: node.host,
      port: node.port,
      enableOfflineQueue: true, // holds the SUBSCRIBE sent on 'ready'
      maxRetriesPerRequest: null,
      connectTimeout: Math.max(this.timeoutMs, 1000),
      retryStrategy: () => null, // a dead node: hop to the next one instead (below)
      autoResubscribe: false,
    });
    this.conn = conn;
    conn.on('error', () => {});
    conn.on('message', (channel: string, message: string) => this.emit('message', channel, message));
    conn.once('ready', () => {
      this.failures = 0;
      this.status = 'ready';
      this.emit('ready');
    });
    conn.once('end', () => {
      if (this.conn !== conn || this.status === 'end') return;
      this.status = 'connecting';
      // Straight to the next node; once every node failed in a row, back off.
      const delay = ++this.failures < nodes.length ? 0 : backoff(this.failures - nodes.length + 1);
      this.timer = setTimeout(() => this.connect(), delay);
      this.timer.unref();
    });
  }
}

/**
 * Waits until the connection is ready, at most `ms`; start-up goes on without Redis (not ready).
 * A cluster is ready when its slot map is loaded and every master's connection is up.
 */
export async function waitReady(redis: RedisClient | Subscriber, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  if (!(await readyEvent(redis as EventEmitter & { status: string }, ms))) return false;
  if (!(redis instanceof Cluster)) return true;
  for (const node of redis.nodes('master')) {
    if (!(await readyEvent(node, deadline - performance.now()))) return false;
  }
  return true;
}

async function readyEvent(conn: EventEmitter & { status: string }, ms: number): Promise<boolean> {
  if (conn.status === 'ready') return true;
  if (ms <= 0) return false;
  const ac = new AbortController();
  const ready = await Promise.race([
    once(conn, 'ready', { signal: ac.signal }).then(() => true, () => false),
    sleep(ms, false, { signal: ac.signal }).catch(() => false),
  ]);
  ac.abort();
  return ready;
}

/** PING with the connection's command timeout; false rather than an error. On a cluster every master must answer. */
export async function pingRedis(redis: RedisClient): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  try {
    if (redis instanceof Cluster) {
      const masters = redis.nodes('master');
      if (masters.length === 0) return false;
      const replies = await Promise.all(masters.map((m) => m.ping()));
      return replies.every((r) => r === 'PONG');
    }
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  }
}

/** Closes politely if connected (QUIT), at once otherwise. */
export async function closeRedis(redis: RedisClient | Subscriber): Promise<void> {
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
