// The spans of one /v1 request. The hot path calls these methods at each step, always behind one
// `if (trace)` (null when tracing is off), so the logic — and every attribute name — lives here:
//
//   POST /v1/chat/completions   SERVER   from the fast lane's first look to the answer's end
//     ├─ authenticate           INTERNAL key lookup (a cold key: its database read)
//     ├─ admit                  INTERNAL org slot, rate windows, concurrency, budget reservation
//     ├─ chat gpt-4o            CLIENT   the upstream call; its traceparent goes to the provider
//     └─ settle                 INTERNAL actual cost replaces the reservation; the log row enqueued
//
// Attributes follow the OpenTelemetry semantic conventions: HTTP (server and client spans) and
// GenAI (gen_ai.*, still "development" there, so the names are spelled out here rather than
// imported from the incubating entry point, whose exports may change), plus Tollgate's own
// (tollgate.*: who called, which rule refused). Never a secret: no header, no body, no key, and
// the upstream URL without its user info or query.
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, defaultTextMapSetter, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import type { Endpoint } from '../providers/types.ts';
import type { ResolvedRoute, Usage } from '../providers/types.ts';
import type { AuthOutcome } from '../proxy/authenticate.ts';
import type { AdmissionOutcome } from '../policy/admission.ts';
import type { ForwardResult } from '../proxy/forward.ts';
import type { RequestTracing } from './tracing.ts';

const OPERATION: Record<Endpoint, string> = {
  'chat/completions': 'chat', completions: 'text_completion', embeddings: 'embeddings', responses: 'chat', messages: 'chat', 'messages/count_tokens': 'count_tokens', generateContent: 'generate_content',
};

/** What the log row says of a request: its final status and error code, usage as metered. */
export interface Outcome {
  status: number;
  errorCode: string | null;
  usage?: Usage | undefined;
  estimated?: boolean | undefined;
}

export class RequestTrace {
  private readonly tracing: RequestTracing;
  private readonly res: ServerResponse;
  private readonly root: Span;
  /** the root span's context: the parent of every step */
  private readonly parent: Context;
  private readonly operation: string;
  /** the step span open now: authenticate, admit or settle */
  private step: Span | undefined;
  private upstreamSpan: Span | undefined;
  private upstreamStarted = false;
  /** set by a refusal: the root's error.type is then the refusal's code */
  private refusal: string | undefined;
  private outcome: Outcome | undefined;
  private closed = false;
  private ended = false;

  constructor(tracing: RequestTracing, headers: IncomingHttpHeaders, res: ServerResponse, endpoint: Endpoint) {
    this.tracing = tracing;
    this.res = res;
    this.operation = OPERATION[endpoint];
    const incoming = tracing.propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    const route = '/v1/' + endpoint;
    this.root = tracing.tracer.startSpan('POST ' + route, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': 'POST', 'http.route': route, 'url.path': route, 'url.scheme': 'http', 'gen_ai.operation.name': this.operation },
    }, incoming);
    this.parent = trace.setSpan(incoming, this.root);
    this.step = this.startStep('authenticate');
    res.once('close', this.onClose);
  }

  /** Ends the authenticate step: the key's owner on the request span, or why it was refused. */
  authenticated(auth: AuthOutcome | null): void {
    const step = this.step;
    this.step = undefined;
    if (!auth) this.refused('service_unavailable', null, step);
    else if (!auth.ok) this.refused(auth.code, null, step);
    else {
      const { ctx } = auth;
      const who: Attributes = { 'tollgate.org_id': ctx.orgId, 'tollgate.key_id': ctx.keyId };
      if (ctx.teamId !== null) who['tollgate.team_id'] = ctx.teamId;
      if (ctx.userId !== null) who['tollgate.user_id'] = ctx.userId;
      if (ctx.serviceAccountId !== null) who['tollgate.service_account_id'] = ctx.serviceAccountId;
      this.root.setAttributes(who);
    }
    step?.end();
  }

  /** Tollgate refused the request (access, body, model, limits): which rule, at which level. */
  refused(code: string, level: string | null = null, step: Span | undefined = this.step): void {
    this.refusal = code;
    const why: Attributes = { 'tollgate.decision.code': code, 'error.type': code };
    if (level !== null) why['tollgate.decision.level'] = level;
    this.root.setAttributes(why);
    step?.setAttributes(why);
  }

  /** What the client asked for, once the body is known to be well-formed. */
  request(body: Record<string, unknown>, model: string): void {
    const asked: Attributes = { 'gen_ai.request.model': model, 'gen_ai.request.stream': body.stream === true };
    const max = typeof body.max_completion_tokens === 'number' ? body.max_completion_tokens : body.max_tokens;
    if (typeof max === 'number') asked['gen_ai.request.max_tokens'] = max;
    this.root.setAttributes(asked);
  }

  admitting(): void {
    this.step = this.startStep('admit');
  }

  /** Ends the admit step with the engine's decision. */
  admitted(admission: AdmissionOutcome): void {
    if (!admission.ok) this.refused(admission.code, admission.level);
    this.step?.end();
    this.step = undefined;
  }

  /**
   * Starts the upstream call's client span and returns the upstream headers with its W3C
   * `traceparent` (and the client's `tracestate`): a copy, the route's own object is shared.
   */
  upstream(route: ResolvedRoute, path: string, headers: Record<string, string>): Record<string, string> {
    this.upstreamStarted = true;
    const target = targetOf(route.baseUrl, path);
    const span = this.tracing.tracer.startSpan(`${this.operation} ${route.upstreamModel}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'http.request.method': 'POST', 'url.full': target.full, 'server.address': target.address, 'server.port': target.port,
        'gen_ai.operation.name': this.operation, 'gen_ai.provider.name': route.provider, 'gen_ai.request.model': route.upstreamModel,
      },
    }, this.parent);
    this.upstreamSpan = span;
    this.root.setAttribute('gen_ai.provider.name', route.provider);
    const out = { ...headers };
    this.tracing.propagator.inject(trace.setSpan(this.parent, span), out, defaultTextMapSetter);
    return out;
  }

  /** The upstream answered (or failed): ends its span, starts the settle step. */
  settling(r: ForwardResult): void {
    const span = this.upstreamSpan;
    this.upstreamSpan = undefined;
    if (span) {
      // A provider status Tollgate answered as a 502 is in the error code (upstream_401 …).
      const m = r.errorCode !== null ? /^upstream_(\d{3})$/.exec(r.errorCode) : null;
      const status = m ? Number(m[1]) : r.errorCode === null || r.status < 500 ? r.status : 0;
      if (status !== 0) span.setAttribute('http.response.status_code', status);
      if (r.usage) span.setAttributes(usageAttributes(r.usage, {}));
      if (r.streamed && r.ttfbMs != null) span.setAttribute('gen_ai.response.time_to_first_chunk', r.ttfbMs / 1000);
      if (r.errorCode !== null && r.errorCode !== 'client_closed' && r.errorCode !== 'client_stalled') {
        span.setAttribute('error.type', r.errorCode);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    }
    this.step = this.startStep('settle');
  }

  /**
   * The log row was enqueued (every request that reached the pipeline ends there, refused or
   * answered): the metered outcome goes on the request span, and the settle step ends.
   */
  logged(r: Outcome, cost: number | null, level: string | null = null): void {
    this.outcome = r;
    const attrs: Attributes = { 'tollgate.status_code': r.status };
    if (r.usage) {
      usageAttributes(r.usage, attrs);
      if (r.estimated) attrs['tollgate.usage.estimated'] = true;
    }
    if (cost !== null) attrs['tollgate.cost_micro'] = cost;
    else if (r.usage) attrs['tollgate.unpriced'] = true;
    this.root.setAttributes(attrs);
    // Refused before the upstream (model not allowed, no route, the org's slots on this replica …).
    if (!this.upstreamStarted && r.errorCode !== null && this.refusal === undefined) this.refused(r.errorCode, level);
    this.step?.end();
    this.step = undefined;
    if (this.closed) this.end();
  }

  private startStep(name: string): Span {
    return this.tracing.tracer.startSpan(name, undefined, this.parent);
  }

  // The answer is over (sent, or the client left). A request still at its upstream (a client that
  // left while Tollgate drains the stream for its usage) ends when it is logged.
  private readonly onClose = (): void => {
    this.closed = true;
    if (this.upstreamSpan === undefined || this.outcome !== undefined) this.end();
  };

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    const { res, root, outcome } = this;
    this.step?.end();
    this.upstreamSpan?.end();
    const status = outcome?.status ?? (res.headersSent ? res.statusCode : 499);
    if (res.headersSent) root.setAttribute('http.response.status_code', res.statusCode);
    const errorType = this.refusal ?? outcome?.errorCode ?? (status >= 400 ? String(status) : null);
    if (errorType !== null && this.refusal === undefined) root.setAttribute('error.type', errorType);
    // Server spans: a 4xx is the client's doing, not a failure of Tollgate (HTTP conventions).
    if (status >= 500) root.setStatus({ code: SpanStatusCode.ERROR });
    root.end();
  }
}

/** Usage as GenAI attributes; the cached and reasoning parts only when the provider reported them. */
function usageAttributes(u: Usage, into: Attributes): Attributes {
  into['gen_ai.usage.input_tokens'] = u.tokensIn;
  into['gen_ai.usage.output_tokens'] = u.tokensOut;
  if (u.cachedTokens) into['gen_ai.usage.cache_read.input_tokens'] = u.cachedTokens;
  if (u.reasoningTokens) into['gen_ai.usage.reasoning.output_tokens'] = u.reasoningTokens;
  return into;
}

// Upstream URLs are a handful of base URLs × endpoints: each is parsed (and stripped of user info
// and query, which may hold credentials) once.
const targets = new Map<string, { full: string; address: string; port: number }>();
function targetOf(baseUrl: string, path: string): { full: string; address: string; port: number } {
  const key = baseUrl + path;
  let t = targets.get(key);
  if (!t) {
    const url = new URL(key);
    if (targets.size >= 1000) targets.clear();
    t = { full: url.origin + url.pathname, address: url.hostname, port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80) };
    targets.set(key, t);
  }
  return t;
}
