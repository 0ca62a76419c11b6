// One /v1 request's tracing calls, in the order the hot path makes them (proxy/fast-lane.ts,
// proxy/pipeline.ts), each behind the same `if (trace)` — for the micro-benchmark of tracing on
// and off. "On" exports to memory through the real batch span processor (the OTLP encoding and the
// HTTP send to a collector run later, off the request, and are in `npm run bench -- --tracing`).
import type { ServerResponse } from 'node:http';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { RequestTracing } from '../../src/observability/tracing.ts';
import { tracingConfig } from '../../src/observability/tracing-config.ts';
import { OPEN_ACCESS, type KeyContext } from '../../src/keys/key-context.ts';
import type { AuthOutcome } from '../../src/proxy/authenticate.ts';
import type { AdmissionOutcome } from '../../src/policy/admission.ts';
import type { ForwardResult } from '../../src/proxy/forward.ts';
import type { ResolvedRoute } from '../../src/providers/types.ts';

/** Keeps the count of spans it was handed, answers at once (an in-memory sink that never grows). */
export class CountingExporter implements SpanExporter {
  spans = 0;
  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    this.spans += spans.length;
    done({ code: ExportResultCode.SUCCESS });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export function benchTracing(exporter: SpanExporter): RequestTracing {
  // A queue large enough that the benchmark's bursts are exported, not dropped.
  const config = tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_BSP_MAX_QUEUE_SIZE: '65536' })!;
  return new RequestTracing(config, { exporter });
}

const ctx: KeyContext = {
  keyId: 7, lineageId: 7, orgId: 1, teamId: 3, userId: 42, serviceAccountId: null, name: 'svc', status: 'active', expiresAtMs: null, ...OPEN_ACCESS,
};
const auth: AuthOutcome = { ok: true, ctx };
const admitted = { ok: true, ticket: { settle() {} }, headers: {} } as AdmissionOutcome;
const route: ResolvedRoute = { deploymentId: 1, options: {}, weight: 1, priority: 0, credentialId: 1, provider: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-bench', upstreamModel: 'gpt-4o-mini', price: undefined };
const upstreamHeaders: Record<string, string> = { 'content-type': 'application/json', authorization: 'Bearer sk-bench', accept: 'application/json, text/event-stream' };
const body: Record<string, unknown> = { model: 'gpt-4o-mini', messages: [], max_tokens: 256 };
const result: ForwardResult = { status: 200, usage: { tokensIn: 96, tokensOut: 100 }, estimated: false, errorCode: null, streamed: false, upstreamMs: 120, ttfbMs: 30 };

/** The answer's socket, as far as a trace looks at it: its close ends the request span. */
class FakeResponse {
  headersSent = true;
  statusCode = 200;
  private onClose: (() => void) | undefined;
  once(_event: 'close', fn: () => void): this {
    this.onClose = fn;
    return this;
  }
  close(): void {
    this.onClose?.();
  }
}

/** One answered chat completion's tracing calls; returns the upstream headers (with a traceparent when on). */
export function tracedRequest(tracing: RequestTracing | null, headers: Record<string, string>): Record<string, string> {
  const res = new FakeResponse();
  const trace = tracing ? tracing.start(headers, res as unknown as ServerResponse, 'chat/completions') : null;
  if (trace) trace.authenticated(auth);
  if (trace) trace.request(body, 'gpt-4o-mini');
  if (trace) trace.admitting();
  if (trace) trace.admitted(admitted);
  let sent = upstreamHeaders;
  if (trace) sent = trace.upstream(route, '/chat/completions', sent);
  if (trace) trace.settling(result);
  if (trace) trace.logged(result, 75);
  res.close();
  return sent;
}
