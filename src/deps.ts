// Everything the app needs, built once by main.ts (or a test) and passed to buildApp().
import type { Config } from './config.ts';
import type { Db } from './db/connection.ts';
import type { Clock } from './clock.ts';
import type { Vault } from './vault/crypto.ts';
import type { KeyCache } from './keys/key-cache.ts';
import type { Router } from './providers/router.ts';
import type { PriceBook } from './usage/pricing.ts';
import type { LogWriter } from './usage/log-writer.ts';
import type { Admission } from './policy/admission.ts';
import type { Invalidator } from './cache/invalidator.ts';
import type { InFlight } from './proxy/in-flight.ts';
import type { PolicyCache } from './policy/policy-cache.ts';
import type { CounterStore } from './policy/counter-store.ts';
import type { Alerts } from './policy/alerts.ts';
import type { PoolOptions } from './providers/http-pool.ts';
import type { AuthThrottle } from './proxy/auth-throttle.ts';
import type { OrgSlots } from './proxy/org-slots.ts';
import type { OrgAccessCache } from './access/org-access.ts';
import type { RequestTracing } from './observability/tracing.ts';
import type { Metrics } from './observability/metrics.ts';

export interface Deps {
  config: Config;
  db: Db;
  clock: Clock;
  vault: Vault;
  keyCache: KeyCache;
  /** each organization's access rules and groups, that key contexts compile their access from */
  orgAccess: OrgAccessCache;
  router: Router;
  prices: PriceBook;
  logWriter: LogWriter;
  admission: Admission;
  policies: PolicyCache;
  counters: CounterStore;
  alerts: Alerts;
  /** spend of a scope in a period from the rollups, after flushing this replica's pending logs */
  loadSpent(scope: string, start: number, end: number | null): Promise<number>;
  invalidator: Invalidator;
  inFlight: InFlight;
  /** how upstream connection pools are made (size, SSRF-guarded lookup) */
  upstreamPool: PoolOptions;
  /** failed /v1 authentications per client address */
  authThrottle: AuthThrottle;
  /** per-replica ceiling on each organization's requests in flight */
  orgSlots: OrgSlots;
  /** Prometheus metrics: every /v1 request is recorded (GET /metrics) */
  metrics: Metrics;
  /** OpenTelemetry spans of /v1 requests; null when no OTLP endpoint is configured (tracing off) */
  tracing: RequestTracing | null;
  /** the default organization, created on first start */
  defaultOrgId: number;
}
