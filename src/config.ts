// One typed, validated configuration object, read from TOLLGATE_* environment variables and an
// optional JSON file (TOLLGATE_CONFIG). Environment wins over the file. Bad values fail start-up
// with the variable named, never silently fall back.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllowlist } from './net/ssrf.ts';
import { parseTrustProxy, type TrustProxy } from './net/client-ip.ts';
import { peopleConfig, type PeopleConfig } from './auth/people-config.ts';
import { tracingConfig, type TracingConfig } from './observability/tracing-config.ts';
import type { MetricsConfig } from './observability/metrics.ts';
import { redisUrls } from './redis-url.ts';
import { BREAKER_DEFAULTS } from './providers/breaker.ts';

export interface ModelPrice {
  /** micro-USD per 1M input (prompt) tokens */
  input: number;
  /** micro-USD per 1M output (completion) tokens */
  output: number;
  /** micro-USD per 1M input tokens served from the provider's prompt cache (absent: charged as input) */
  cachedInput?: number;
  /** the model's maximum output tokens, used to bound a reservation when max_tokens is absent */
  maxOutputTokens?: number;
  /** the most one image input can cost, in input tokens (reservations; default: the largest any OpenAI model documents) */
  imageTokens?: number;
}

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** `sqlite:<file>` or `postgres://…` */
  databaseUrl: string;
  redisUrl: string | undefined;
  /** cluster mode on a Redis Cluster / Valkey Cluster: redisUrl lists seed nodes, keys route by hash slot */
  redisCluster: boolean;
  adminKey: string | undefined;
  encryptionKey: string | undefined;
  logLevel: string;
  /** log lines: JSON, human-readable, or human-readable when stdout is a terminal (src/logging.ts) */
  logFormat: 'json' | 'pretty' | 'auto';
  /** one log line per /api request (method, route, status, time, caller) */
  accessLog: boolean;
  /** request_logs rows older than this many days are pruned (0: kept forever; rollups are never pruned) */
  logRetentionDays: number;
  /** how often the batched log writer flushes, in ms */
  logFlushMs: number;
  logBatchSize: number;
  /** bound on queued log rows while the database is unreachable */
  logQueueMax: number;
  /** append every log row to a local journal in the data dir, replayed after a crash (docs/production.md) */
  journal: boolean;
  /** how often the journal is fsynced (ms; 0: left to the OS): what an OS crash can lose */
  journalFsyncMs: number;
  /** bound on the journal while the database is unreachable (MiB) */
  journalMaxMb: number;
  keyCacheSize: number;
  /** seconds an unknown key hash is remembered as unknown */
  negativeCacheSeconds: number;
  /** the whole upstream response, at most (streams included) */
  upstreamTimeoutMs: number;
  /** a stream's first byte, and any silence between its chunks, at most */
  upstreamFirstByteTimeoutMs: number;
  /** connections to one upstream origin per provider credential (each organization has its own) */
  upstreamConnections: number;
  /** circuit breaker, per replica and deployment (src/providers/breaker.ts): failures in a row that open it, the window they must fall in, the cool-down */
  breaker: { failures: number; windowMs: number; coolDownMs: number };
  /** a streaming client that reads nothing for this long is disconnected and its upstream cancelled */
  clientStallMs: number;
  /** largest /v1 request body accepted, in bytes */
  v1BodyLimitBytes: number;
  /** largest body of any other request (the admin API), in bytes */
  apiBodyLimitBytes: number;
  /** largest upstream answer Tollgate buffers (a non-streamed response, or one SSE event), in bytes */
  upstreamResponseLimitBytes: number;
  /** failed /v1 authentications per client IP per minute before it is refused outright (0: never) */
  authFailuresPerMinute: number;
  /** per replica: requests in flight of one organization, at most (0: unlimited) */
  orgMaxParallelDefault: number;
  /** after a client abandons a stream, how long to keep reading it for the provider's usage */
  abortDrainMs: number;
  shutdownGraceMs: number;
  /** which proxies may set X-Forwarded-For (net/client-ip.ts) */
  trustProxy: TrustProxy;
  /** the HTTP server waits this long for a request's headers (slow clients are cut off: 408) */
  headersTimeoutMs: number;
  /** … and this long for the whole request, body included (never limits the response) */
  requestTimeoutMs: number;
  /** an idle keep-alive connection is closed after this long */
  keepAliveTimeoutMs: number;
  /** internal upstream addresses providers may use anyway: CIDRs, addresses, host names, `*` (src/net/ssrf.ts) */
  upstreamAllow: string[];
  openai: { apiKey: string | undefined; baseUrl: string };
  /**
   * TOLLGATE_DEMO=1: the model `tollgate-demo` answers every key locally with a canned, clearly
   * marked answer at $0 (src/providers/demo/), so a first run works without a provider key. Off
   * unless asked for; refused with PostgreSQL (cluster mode, i.e. production) unless TOLLGATE_DEMO=force.
   */
  demo: boolean;
  /** extra or overriding prices, by model name */
  pricing: Record<string, ModelPrice>;
  /** budgets: what to do when the shared counter store is unreachable */
  failOpen: boolean;
  /** budget alerts are POSTed here, signed with the secret */
  alertWebhooks: Array<{ url: string; secret: string }>;
  /** scheduled rotations (with the new secret) and expiry reminders are POSTed here, signed alike */
  keyWebhooks: Array<{ url: string; secret: string }>;
  /** how often each replica looks for keys due for rotation or an expiry reminder (s; 0: never) */
  rotationCheckSeconds: number;
  /** a `key.expiring` reminder is sent this many days before a key expires (0: none) */
  keyExpiryReminderDays: number;
  /** cluster mode: prefix of every Redis key and of the invalidation channel */
  redisPrefix: string;
  /** cluster mode: a Redis command that takes longer fails (and admission fails closed or open) */
  redisTimeoutMs: number;
  /** cluster mode: replica heartbeat; one silent for 3 of them is presumed dead and its leases and reservations released */
  replicaHeartbeatMs: number;
  /** PostgreSQL: connections per replica */
  databasePoolSize: number;
  /** sign-in, sessions, OIDC, invitations (auth/people-config.ts) */
  people: PeopleConfig;
  /** traces over OTLP/HTTP, from the standard OTEL_* variables; null: tracing off (observability/tracing-config.ts) */
  tracing: TracingConfig | null;
  /** GET /metrics: its token and the bounds of its label values (observability/metrics.ts) */
  metrics: MetricsConfig;
}

export class ConfigError extends Error {}

export type Env = Record<string, string | undefined>;

export function int(env: Env, file: Record<string, unknown>, name: string, fileKey: string, dflt: number, min = 0): number {
  const raw = env[name] ?? file[fileKey];
  if (raw === undefined || raw === '') return dflt;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

export function str(env: Env, file: Record<string, unknown>, name: string, fileKey: string): string | undefined {
  const raw = env[name] ?? file[fileKey];
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string') throw new ConfigError(`${name} must be a string`);
  return raw;
}

export function bool(env: Env, file: Record<string, unknown>, name: string, fileKey: string, dflt: boolean): boolean {
  const raw = env[name] ?? file[fileKey];
  if (raw === undefined || raw === '') return dflt;
  if (typeof raw === 'boolean') return raw;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(raw)}`);
}

function readFile(file: string | undefined): Record<string, unknown> {
  if (!file) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`TOLLGATE_CONFIG: cannot read ${file}: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`TOLLGATE_CONFIG: ${file} must hold a JSON object`);
  return parsed as Record<string, unknown>;
}

function webhooks(env: Env, file: Record<string, unknown>): Array<{ url: string; secret: string }> {
  const out: Array<{ url: string; secret: string }> = [];
  const list = file.alertWebhooks;
  if (list !== undefined) {
    if (!Array.isArray(list)) throw new ConfigError('alertWebhooks must be an array of {url, secret}');
    for (const [i, w] of list.entries()) {
      if (typeof w?.url !== 'string' || typeof w?.secret !== 'string' || !/^https?:\/\//.test(w.url)) throw new ConfigError(`alertWebhooks[${i}] needs an http(s) url and a secret`);
      out.push({ url: w.url, secret: w.secret });
    }
  }
  const url = env.TOLLGATE_ALERT_WEBHOOK_URL;
  if (url) {
    if (!/^https?:\/\//.test(url)) throw new ConfigError('TOLLGATE_ALERT_WEBHOOK_URL must be an http(s) URL');
    const secret = env.TOLLGATE_ALERT_WEBHOOK_SECRET;
    if (!secret) throw new ConfigError('TOLLGATE_ALERT_WEBHOOK_SECRET is required with TOLLGATE_ALERT_WEBHOOK_URL (alerts are signed)');
    out.push({ url, secret });
  }
  return out;
}

/** The key webhook (scheduled rotation, expiry reminders): it receives secrets, so it is always signed. */
function keyWebhooks(env: Env, file: Record<string, unknown>): Array<{ url: string; secret: string }> {
  const url = str(env, file, 'TOLLGATE_KEY_WEBHOOK_URL', 'keyWebhookUrl');
  if (!url) return [];
  if (!/^https?:\/\//.test(url)) throw new ConfigError('TOLLGATE_KEY_WEBHOOK_URL must be an http(s) URL');
  const secret = str(env, file, 'TOLLGATE_KEY_WEBHOOK_SECRET', 'keyWebhookSecret');
  if (!secret) throw new ConfigError('TOLLGATE_KEY_WEBHOOK_SECRET is required with TOLLGATE_KEY_WEBHOOK_URL (deliveries are signed)');
  return [{ url, secret }];
}

const PRICE_FIELDS = ['cachedInput', 'maxOutputTokens', 'imageTokens'] as const;

function pricing(raw: unknown): Record<string, ModelPrice> {
  if (raw === undefined) return {};
  if (!raw || typeof raw !== 'object') throw new ConfigError('pricing must be an object of model → {input, output}');
  const out: Record<string, ModelPrice> = {};
  for (const [model, p] of Object.entries(raw as Record<string, any>)) {
    if (!Number.isInteger(p?.input) || !Number.isInteger(p?.output) || p.input < 0 || p.output < 0) {
      throw new ConfigError(`pricing.${model}: input and output must be integers (micro-USD per 1M tokens)`);
    }
    // A price field that is misspelt or malformed would be dropped and the model charged otherwise:
    // every field is known and checked.
    const price: ModelPrice = { input: p.input, output: p.output };
    for (const [field, value] of Object.entries(p as Record<string, unknown>)) {
      if (field === 'input' || field === 'output') continue;
      if (!(PRICE_FIELDS as readonly string[]).includes(field)) throw new ConfigError(`pricing.${model}.${field}: not a price field (known: input, output, ${PRICE_FIELDS.join(', ')})`);
      if (!Number.isInteger(value) || (value as number) < 0) throw new ConfigError(`pricing.${model}.${field}: must be a non-negative integer (${field === 'cachedInput' ? 'micro-USD per 1M tokens' : 'tokens'})`);
      price[field as (typeof PRICE_FIELDS)[number]] = value as number;
    }
    out[model] = price;
  }
  return out;
}

function upstreamAllow(env: Env, file: Record<string, unknown>): string[] {
  const raw = env.TOLLGATE_UPSTREAM_ALLOW ?? file.upstreamAllow;
  if (raw === undefined || raw === '') return [];
  const entries = typeof raw === 'string' ? raw.split(',') : Array.isArray(raw) && raw.every((e) => typeof e === 'string') ? (raw as string[]) : undefined;
  if (!entries) throw new ConfigError('TOLLGATE_UPSTREAM_ALLOW must be a comma-separated list (or, in the file, an array of strings)');
  try {
    parseAllowlist(entries);
  } catch (err) {
    throw new ConfigError(`TOLLGATE_UPSTREAM_ALLOW: ${(err as Error).message}`);
  }
  return entries.map((e) => e.trim()).filter(Boolean);
}

/**
 * The demo model is for a first run on one machine. PostgreSQL is what a production (cluster)
 * deployment runs on, so a demo flag left in its environment stops start-up instead of serving
 * free canned answers to every key; `force` is the deliberate way round (a shared staging setup).
 */
function demo(raw: unknown, databaseUrl: string): boolean {
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false' || raw === false) return false;
  if (raw === 'force') return true;
  if (raw !== '1' && raw !== 'true' && raw !== true) throw new ConfigError(`TOLLGATE_DEMO must be 1, 0 or force, got ${JSON.stringify(raw)}`);
  if (!databaseUrl.startsWith('sqlite:')) {
    throw new ConfigError('TOLLGATE_DEMO=1 is refused with PostgreSQL (cluster mode is for production, where free canned answers must never be on by accident); unset it, or set TOLLGATE_DEMO=force if you mean it');
  }
  return true;
}

function logFormat(raw: string | undefined): Config['logFormat'] {
  if (raw === undefined) return 'auto';
  if (raw === 'json' || raw === 'pretty' || raw === 'auto') return raw;
  throw new ConfigError(`TOLLGATE_LOG_FORMAT must be json, pretty or auto, got ${JSON.stringify(raw)}`);
}

function trustProxy(raw: unknown): TrustProxy {
  if (raw !== undefined && typeof raw !== 'string' && typeof raw !== 'boolean' && typeof raw !== 'number') throw new ConfigError('TOLLGATE_TRUST_PROXY must be true, false, a hop count or a comma-separated list of CIDR ranges');
  try {
    return parseTrustProxy(raw);
  } catch (err) {
    throw new ConfigError(`TOLLGATE_TRUST_PROXY: ${(err as Error).message}`);
  }
}

/** One redis:// URL, or with TOLLGATE_REDIS_CLUSTER a comma-separated list of seed nodes. */
function checkRedisUrl(value: string, cluster: boolean): void {
  if (value.includes(',') && !cluster) throw new ConfigError('TOLLGATE_REDIS_URL lists several nodes: set TOLLGATE_REDIS_CLUSTER=true for a Redis Cluster (a single Redis takes one URL)');
  let urls: URL[];
  try {
    urls = redisUrls(value);
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} (e.g. redis://10.0.0.1:6379${cluster ? ',redis://10.0.0.2:6379' : ''})`);
  }
  const db = urls.findIndex((u) => u.pathname.length > 1 && u.pathname !== '/0');
  if (cluster && db >= 0) throw new ConfigError(`TOLLGATE_REDIS_URL (entry ${db + 1}) names a database: a Redis Cluster has only database 0`);
}

/**
 * The master admin key: TOLLGATE_ADMIN_KEY, or PROXY_MASTER_KEY, its alias from seed 001 (whose
 * Kubernetes manifests mount the Secret under that name; issue 15). Both set to different values
 * is ambiguous — which one the operator just rotated cannot be known — so start-up stops. Neither
 * value is ever printed.
 */
function adminKey(env: Env, file: Record<string, unknown>): string | undefined {
  const key = str(env, file, 'TOLLGATE_ADMIN_KEY', 'adminKey');
  const alias = str(env, file, 'PROXY_MASTER_KEY', 'proxyMasterKey');
  if (key !== undefined && alias !== undefined && key !== alias) {
    throw new ConfigError('TOLLGATE_ADMIN_KEY and PROXY_MASTER_KEY are both set, to different values: PROXY_MASTER_KEY is an alias of TOLLGATE_ADMIN_KEY; set only one (or both to the same key)');
  }
  return key ?? alias;
}

export function loadConfig(env: Env = process.env): Config {
  const file = readFile(env.TOLLGATE_CONFIG);
  const dataDir = path.resolve(str(env, file, 'TOLLGATE_DATA_DIR', 'dataDir') ?? './data');
  const databaseUrl = str(env, file, 'TOLLGATE_DATABASE_URL', 'databaseUrl') ?? `sqlite:${path.join(dataDir, 'tollgate.db')}`;
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl)) {
    throw new ConfigError('TOLLGATE_DATABASE_URL must start with sqlite: or postgres://');
  }
  const redisUrl = str(env, file, 'TOLLGATE_REDIS_URL', 'redisUrl');
  const redisCluster = bool(env, file, 'TOLLGATE_REDIS_CLUSTER', 'redisCluster', false);
  if (redisUrl) checkRedisUrl(redisUrl, redisCluster);
  else if (redisCluster) throw new ConfigError('TOLLGATE_REDIS_CLUSTER=true needs TOLLGATE_REDIS_URL (the seed nodes of the cluster)');
  const headersTimeoutMs = int(env, file, 'TOLLGATE_HEADERS_TIMEOUT_MS', 'headersTimeoutMs', 10_000, 1);
  const requestTimeoutMs = int(env, file, 'TOLLGATE_REQUEST_TIMEOUT_MS', 'requestTimeoutMs', 30_000, 1);
  if (headersTimeoutMs > requestTimeoutMs) throw new ConfigError('TOLLGATE_HEADERS_TIMEOUT_MS must not exceed TOLLGATE_REQUEST_TIMEOUT_MS (the headers are part of the request)');
  return {
    host: str(env, file, 'TOLLGATE_HOST', 'host') ?? '0.0.0.0',
    port: int(env, file, 'TOLLGATE_PORT', 'port', 4000),
    dataDir,
    databaseUrl,
    redisUrl,
    redisCluster,
    adminKey: adminKey(env, file),
    encryptionKey: str(env, file, 'TOLLGATE_ENCRYPTION_KEY', 'encryptionKey'),
    logLevel: str(env, file, 'TOLLGATE_LOG_LEVEL', 'logLevel') ?? 'info',
    logFormat: logFormat(str(env, file, 'TOLLGATE_LOG_FORMAT', 'logFormat')),
    accessLog: bool(env, file, 'TOLLGATE_ACCESS_LOG', 'accessLog', false),
    logRetentionDays: int(env, file, 'TOLLGATE_LOG_RETENTION_DAYS', 'logRetentionDays', 0),
    logFlushMs: int(env, file, 'TOLLGATE_LOG_FLUSH_MS', 'logFlushMs', 250, 1),
    logBatchSize: int(env, file, 'TOLLGATE_LOG_BATCH_SIZE', 'logBatchSize', 200, 1),
    logQueueMax: int(env, file, 'TOLLGATE_LOG_QUEUE_MAX', 'logQueueMax', 200_000, 1),
    journal: bool(env, file, 'TOLLGATE_JOURNAL', 'journal', true),
    journalFsyncMs: int(env, file, 'TOLLGATE_JOURNAL_FSYNC_MS', 'journalFsyncMs', 1000),
    journalMaxMb: int(env, file, 'TOLLGATE_JOURNAL_MAX_MB', 'journalMaxMb', 256, 8),
    keyCacheSize: int(env, file, 'TOLLGATE_KEY_CACHE_SIZE', 'keyCacheSize', 100_000, 1),
    negativeCacheSeconds: int(env, file, 'TOLLGATE_NEGATIVE_CACHE_SECONDS', 'negativeCacheSeconds', 10),
    upstreamTimeoutMs: int(env, file, 'TOLLGATE_UPSTREAM_TIMEOUT_MS', 'upstreamTimeoutMs', 600_000, 1),
    upstreamFirstByteTimeoutMs: int(env, file, 'TOLLGATE_UPSTREAM_FIRST_BYTE_TIMEOUT_MS', 'upstreamFirstByteTimeoutMs', 60_000, 1),
    upstreamConnections: int(env, file, 'TOLLGATE_UPSTREAM_CONNECTIONS', 'upstreamConnections', 128, 1),
    breaker: {
      failures: int(env, file, 'TOLLGATE_BREAKER_FAILURES', 'breakerFailures', BREAKER_DEFAULTS.failures, 1),
      windowMs: int(env, file, 'TOLLGATE_BREAKER_WINDOW_MS', 'breakerWindowMs', BREAKER_DEFAULTS.windowMs, 1),
      coolDownMs: int(env, file, 'TOLLGATE_BREAKER_COOLDOWN_MS', 'breakerCoolDownMs', BREAKER_DEFAULTS.coolDownMs, 1),
    },
    clientStallMs: int(env, file, 'TOLLGATE_CLIENT_STALL_MS', 'clientStallMs', 30_000, 1),
    v1BodyLimitBytes: int(env, file, 'TOLLGATE_V1_BODY_LIMIT_BYTES', 'v1BodyLimitBytes', 16 * 1024 * 1024, 1024),
    apiBodyLimitBytes: int(env, file, 'TOLLGATE_API_BODY_LIMIT_BYTES', 'apiBodyLimitBytes', 1024 * 1024, 1024),
    upstreamResponseLimitBytes: int(env, file, 'TOLLGATE_UPSTREAM_RESPONSE_LIMIT_BYTES', 'upstreamResponseLimitBytes', 64 * 1024 * 1024, 1024),
    authFailuresPerMinute: int(env, file, 'TOLLGATE_AUTH_FAILURES_PER_MINUTE', 'authFailuresPerMinute', 30),
    orgMaxParallelDefault: int(env, file, 'TOLLGATE_ORG_MAX_PARALLEL', 'orgMaxParallelDefault', 512),
    abortDrainMs: int(env, file, 'TOLLGATE_ABORT_DRAIN_MS', 'abortDrainMs', 5_000),
    shutdownGraceMs: int(env, file, 'TOLLGATE_SHUTDOWN_GRACE_MS', 'shutdownGraceMs', 30_000),
    trustProxy: trustProxy(env.TOLLGATE_TRUST_PROXY ?? file.trustProxy),
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: int(env, file, 'TOLLGATE_KEEP_ALIVE_TIMEOUT_MS', 'keepAliveTimeoutMs', 5_000, 1),
    upstreamAllow: upstreamAllow(env, file),
    openai: {
      apiKey: env.OPENAI_API_KEY || undefined,
      baseUrl: env.OPENAI_BASE_URL || 'https://api.openai.com/v1',
    },
    demo: demo(env.TOLLGATE_DEMO ?? file.demo, databaseUrl),
    pricing: pricing(file.pricing),
    failOpen: bool(env, file, 'TOLLGATE_FAIL_OPEN', 'failOpen', false),
    alertWebhooks: webhooks(env, file),
    keyWebhooks: keyWebhooks(env, file),
    rotationCheckSeconds: int(env, file, 'TOLLGATE_ROTATION_CHECK_SECONDS', 'rotationCheckSeconds', 60),
    keyExpiryReminderDays: int(env, file, 'TOLLGATE_KEY_EXPIRY_REMINDER_DAYS', 'keyExpiryReminderDays', 7),
    redisPrefix: str(env, file, 'TOLLGATE_REDIS_PREFIX', 'redisPrefix') ?? 'tg:',
    redisTimeoutMs: int(env, file, 'TOLLGATE_REDIS_TIMEOUT_MS', 'redisTimeoutMs', 1000, 1),
    replicaHeartbeatMs: int(env, file, 'TOLLGATE_REPLICA_HEARTBEAT_MS', 'replicaHeartbeatMs', 2000, 50),
    databasePoolSize: int(env, file, 'TOLLGATE_DATABASE_POOL_SIZE', 'databasePoolSize', 10, 1),
    people: peopleConfig(env, file),
    tracing: tracingConfig(env),
    metrics: {
      token: str(env, file, 'TOLLGATE_METRICS_TOKEN', 'metricsToken'),
      teamLimit: int(env, file, 'TOLLGATE_METRICS_TEAM_LIMIT', 'metricsTeamLimit', 200),
      modelLimit: int(env, file, 'TOLLGATE_METRICS_MODEL_LIMIT', 'metricsModelLimit', 100),
      budgetSeries: int(env, file, 'TOLLGATE_METRICS_BUDGET_SERIES', 'metricsBudgetSeries', 500),
      budgetCacheMs: int(env, file, 'TOLLGATE_METRICS_BUDGET_CACHE_MS', 'metricsBudgetCacheMs', 10_000),
    },
  };
}
