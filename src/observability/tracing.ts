// OpenTelemetry traces of /v1 requests, exported over OTLP/HTTP (protobuf) to the collector named
// by the standard OTEL_* variables (observability/tracing-config.ts). Off unless an endpoint is
// set: then deps.tracing is null and the hot path's only cost is that null check.
//
// Tollgate owns its tracer provider instead of registering a global one: nothing else in the
// process is instrumented, several runtimes can live in one process (tests), and no
// AsyncLocalStorage context manager is needed — each request passes its span context explicitly
// (observability/request-trace.ts).
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Tracer } from '@opentelemetry/api';
import { ExportResultCode, W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import {
  AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider,
  type ReadableSpan, type Sampler, type SpanExporter,
} from '@opentelemetry/sdk-trace';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { Endpoint } from '../providers/types.ts';
import type { SamplerName, TracingConfig } from './tracing-config.ts';
import { RequestTrace } from './request-trace.ts';

// The exporter's enum of compressions has the same string values as the configuration's.
type ExporterConfig = NonNullable<ConstructorParameters<typeof OTLPTraceExporter>[0]>;

export interface TracingOptions {
  /** replaces the OTLP exporter (the micro-benchmark exports to memory) */
  exporter?: SpanExporter;
  /** an export failed (collector unreachable or refusing); the message never holds the export headers */
  onExportError?: (message: string) => void;
}

export class RequestTracing {
  readonly tracer: Tracer;
  readonly propagator = new W3CTraceContextPropagator();
  private readonly provider: TracerProvider;
  /** the longest the last export may hold a shutdown: one export's timeout */
  private readonly shutdownMs: number;

  constructor(config: TracingConfig, options: TracingOptions = {}) {
    this.shutdownMs = config.timeoutMs;
    const exporter = options.exporter ?? new OTLPTraceExporter({ url: config.url, headers: config.headers, timeoutMillis: config.timeoutMs, compression: config.compression as ExporterConfig['compression'] });
    const { batch } = config;
    this.provider = new TracerProvider({
      // telemetry.sdk.* from the SDK, then the operator's attributes and service name.
      resource: defaultResource().merge(resourceFromAttributes({ ...config.resourceAttributes, [ATTR_SERVICE_NAME]: config.serviceName })),
      sampler: sampler(config.sampler, config.samplerRatio),
      spanProcessors: [new BatchSpanProcessor({
        exporter: options.onExportError ? new ReportingExporter(exporter, options.onExportError) : exporter,
        scheduledDelayMillis: batch.scheduledDelayMs,
        exportTimeoutMillis: batch.exportTimeoutMs,
        maxQueueSize: batch.maxQueueSize,
        maxExportBatchSize: batch.maxExportBatchSize,
      })],
    });
    this.tracer = this.provider.getTracer('tollgate');
  }

  /** The span of one /v1 request, a child of the client's `traceparent` if it sent one; its authenticate step starts now. */
  start(headers: IncomingHttpHeaders, res: ServerResponse, endpoint: Endpoint): RequestTrace {
    return new RequestTrace(this, headers, res, endpoint);
  }

  /** Exports every ended span now (tests; the batch otherwise goes every OTEL_BSP_SCHEDULE_DELAY). */
  flush(): Promise<void> {
    return this.provider.forceFlush();
  }

  /**
   * Exports what is left and stops; called by the runtime's close after in-flight requests drained.
   * A collector that is down does not hold the process past one export timeout (the exporter
   * would otherwise retry with backoff): those spans are dropped.
   */
  async shutdown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.shutdownMs)));
    await Promise.race([this.provider.shutdown().catch(() => undefined), late]);
    clearTimeout(timer);
  }
}

/** null when no OTLP endpoint is configured: tracing is off and costs nothing. */
export function startTracing(config: TracingConfig | null, options: TracingOptions = {}): RequestTracing | null {
  return config ? new RequestTracing(config, options) : null;
}

function sampler(name: SamplerName, ratio: number): Sampler {
  const root = name.endsWith('always_off') ? new AlwaysOffSampler() : name.endsWith('traceidratio') ? new TraceIdRatioBasedSampler(ratio) : new AlwaysOnSampler();
  return name.startsWith('parentbased_') ? new ParentBasedSampler({ root }) : root;
}

/** Passes exports through, reporting failures (the SDK would only tell its diagnostic logger, off by default). */
class ReportingExporter implements SpanExporter {
  private readonly inner: SpanExporter;
  private readonly report: (message: string) => void;

  constructor(inner: SpanExporter, report: (message: string) => void) {
    this.inner = inner;
    this.report = report;
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) this.report(`${spans.length} spans not exported: ${(result.error?.message ?? 'export failed').slice(0, 200)}`);
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
