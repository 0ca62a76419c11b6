// Traces are configured with the standard OpenTelemetry environment variables (the SDK
// specification's names and defaults), so an operator's existing collector settings work
// unchanged. Read by config.ts with its rules: a bad value fails start-up naming the variable.
// Tracing is off unless an OTLP endpoint is set (and OTEL_SDK_DISABLED / OTEL_TRACES_EXPORTER=none
// turn it off again). Header values are often a vendor's API key: no message ever repeats them.
import { ConfigError, type Env } from '../config.ts';

const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

export interface TracingConfig {
  /** where spans are POSTed: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces */
  url: string;
  /** OTEL_EXPORTER_OTLP_(TRACES_)HEADERS: sent with every export, never logged */
  headers: Record<string, string>;
  /** OTEL_SERVICE_NAME, else service.name in OTEL_RESOURCE_ATTRIBUTES, else "tollgate" */
  serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES */
  resourceAttributes: Record<string, string>;
  sampler: SamplerName;
  /** OTEL_TRACES_SAMPLER_ARG: the ratio of the *traceidratio samplers, 0…1 */
  samplerRatio: number;
  /** OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT: one export request, at most */
  timeoutMs: number;
  compression: 'gzip' | 'none';
  /** the batch span processor (OTEL_BSP_*) */
  batch: { scheduledDelayMs: number; exportTimeoutMs: number; maxQueueSize: number; maxExportBatchSize: number };
}

export function tracingConfig(env: Env): TracingConfig | null {
  if (flag(env, 'OTEL_SDK_DISABLED')) return null;
  const exporter = val(env, 'OTEL_TRACES_EXPORTER');
  if (exporter === 'none') return null;
  if (exporter !== undefined && exporter !== 'otlp') throw new ConfigError(`OTEL_TRACES_EXPORTER must be otlp or none (Tollgate exports traces over OTLP/HTTP), got ${JSON.stringify(exporter)}`);
  const url = endpoint(env);
  if (url === undefined) return null;
  const protocol = pick(env, 'PROTOCOL');
  if (protocol && protocol.value !== 'http/protobuf') throw new ConfigError(`${protocol.name} must be http/protobuf (Tollgate exports traces over OTLP/HTTP with protobuf), got ${JSON.stringify(protocol.value)}`);
  const compression = pick(env, 'COMPRESSION');
  if (compression && compression.value !== 'gzip' && compression.value !== 'none') throw new ConfigError(`${compression.name} must be gzip or none, got ${JSON.stringify(compression.value)}`);
  const resourceAttributes = pairs(env, 'OTEL_RESOURCE_ATTRIBUTES', true);
  const sampler = (val(env, 'OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on') as SamplerName;
  if (!SAMPLERS.includes(sampler)) throw new ConfigError(`OTEL_TRACES_SAMPLER must be one of ${SAMPLERS.join(', ')}, got ${JSON.stringify(sampler)}`);
  const ratioRaw = val(env, 'OTEL_TRACES_SAMPLER_ARG');
  const samplerRatio = ratioRaw === undefined ? 1 : Number(ratioRaw);
  if (!(samplerRatio >= 0 && samplerRatio <= 1)) throw new ConfigError(`OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1, got ${JSON.stringify(ratioRaw)}`);
  const timeout = pick(env, 'TIMEOUT');
  const batch = {
    scheduledDelayMs: int('OTEL_BSP_SCHEDULE_DELAY', val(env, 'OTEL_BSP_SCHEDULE_DELAY'), 5000, 0),
    exportTimeoutMs: int('OTEL_BSP_EXPORT_TIMEOUT', val(env, 'OTEL_BSP_EXPORT_TIMEOUT'), 30_000, 1),
    maxQueueSize: int('OTEL_BSP_MAX_QUEUE_SIZE', val(env, 'OTEL_BSP_MAX_QUEUE_SIZE'), 2048, 1),
    maxExportBatchSize: int('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', val(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE'), 512, 1),
  };
  if (batch.maxExportBatchSize > batch.maxQueueSize) throw new ConfigError('OTEL_BSP_MAX_EXPORT_BATCH_SIZE must not exceed OTEL_BSP_MAX_QUEUE_SIZE');
  return {
    url,
    // The signal-specific headers win over the general ones, key by key (the specification's rule).
    headers: { ...pairs(env, 'OTEL_EXPORTER_OTLP_HEADERS', false), ...pairs(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', false) },
    serviceName: val(env, 'OTEL_SERVICE_NAME') ?? resourceAttributes['service.name'] ?? 'tollgate',
    resourceAttributes,
    sampler,
    samplerRatio,
    timeoutMs: timeout ? int(timeout.name, timeout.value, 10_000, 1) : 10_000,
    compression: compression?.value === 'gzip' ? 'gzip' : 'none',
    batch,
  };
}

const val = (env: Env, name: string): string | undefined => {
  const v = env[name]?.trim();
  return v ? v : undefined;
};

/** OTEL_EXPORTER_OTLP_TRACES_<what>, else OTEL_EXPORTER_OTLP_<what>, with the name that was set. */
function pick(env: Env, what: string): { name: string; value: string } | undefined {
  for (const name of [`OTEL_EXPORTER_OTLP_TRACES_${what}`, `OTEL_EXPORTER_OTLP_${what}`]) {
    const value = val(env, name);
    if (value !== undefined) return { name, value };
  }
  return undefined;
}

function flag(env: Env, name: string): boolean {
  const v = val(env, name)?.toLowerCase();
  if (v === undefined || v === 'false') return false;
  if (v === 'true') return true;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(v)}`);
}

function int(name: string, raw: string | undefined, dflt: number, min: number): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

/** The traces URL: the signal-specific endpoint is used as is; the general one gets /v1/traces. */
function endpoint(env: Env): string | undefined {
  const specific = val(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const general = val(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const name = specific !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  const raw = specific ?? general;
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(specific ?? (general!.endsWith('/') ? general! : general + '/') + 'v1/traces');
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${name} must be an http(s) URL`);
  return url.toString();
}

/**
 * `key1=value1,key2=value2` with percent-encoded values (the W3C Baggage format the specification
 * uses for headers and resource attributes). A malformed entry fails start-up; the message names
 * the variable and, for headers, never the value.
 */
function pairs(env: Env, name: string, showValue: boolean): Record<string, string> {
  const raw = val(env, name);
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  for (const entry of raw.split(',')) {
    if (!entry.trim()) continue;
    const eq = entry.indexOf('=');
    const key = eq > 0 ? entry.slice(0, eq).trim() : '';
    let value: string | undefined;
    try {
      value = eq > 0 ? decodeURIComponent(entry.slice(eq + 1).trim()) : undefined;
    } catch {
      value = undefined;
    }
    if (!key || value === undefined) throw new ConfigError(`${name} must be a comma-separated list of key=value (values percent-encoded)${showValue ? `, got ${JSON.stringify(entry)}` : ''}`);
    out[key] = value;
  }
  return out;
}
