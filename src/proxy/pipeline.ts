// ★ The hot path: one /v1 request, top to bottom. See docs/architecture.md for the diagram.
//
//   authenticate (fast-lane.ts, from the headers, before the body is read)
//     ─► access ─► check body ─► route ─► bound the cost ─► admit (limits + budget reservation,
//     all levels) ─► forward + meter ─► settle (actual cost replaces the reservation) ─► enqueue log
//
// Each step returns a typed outcome; a failed step answers in OpenAI's error shape and stops.
// Nothing here awaits the database on a warm key, and the log row is only enqueued.
import type { ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Deps } from '../deps.ts';
import { iso } from '../clock.ts';
import { checkAccess, checkCaller, checkModel } from '../policy/access.ts';
import { ENDPOINT_SCOPE, scopeBit } from '../policy/scopes.ts';
import { costMicro } from '../usage/pricing.ts';
import { requestBound } from '../usage/token-bound.ts';
import { checkBody } from './body-check.ts';
import { OpenAIStreamMeter, prepareBody, upstreamHeaders, type Endpoint } from '../providers/openai-compatible/adapter.ts';
import type { KeyContext } from '../keys/key-context.ts';
import { forward, type ForwardResult } from './forward.ts';
import { ERRORS, type ErrorCode } from '../http/errors.ts';
import { rateLimitHeaders, sendError, type HeaderMap } from './respond.ts';
import type { RequestTrace } from '../observability/request-trace.ts';

export interface ProxyCall {
  /** the key, authenticated from the headers before the body was read */
  ctx: KeyContext;
  endpoint: Endpoint;
  body: Record<string, unknown>;
  /** byte length of the request body (a coarse bound of its prompt tokens, see token-bound.ts) */
  bodyBytes: number;
  /** the body as received */
  raw: Buffer;
  headers: Record<string, string | string[] | undefined>;
  ip: string;
  res: ServerResponse;
  /** this request's spans; null when tracing is off (every call on it is behind one `if`) */
  trace?: RequestTrace | null;
}

export async function proxyRequest(deps: Deps, call: ProxyCall): Promise<void> {
  const started = performance.now();
  const now = deps.clock.now();
  const headers: HeaderMap = { 'x-request-id': randomUUID() };
  const { res, body, ctx } = call;
  const model = body.model;
  const log = (r: Pick<ForwardResult, 'status' | 'errorCode'> & Partial<ForwardResult>, provider: string | null, cost: number | null, unpriced: boolean, level: string | null = null) =>
    enqueueLog(deps, call, ctx, String(headers['x-request-id']), loggable(model), provider, r, cost, unpriced, now, started, level);

  // Status, expiry, scope and IP allowlists were checked from the headers (fast-lane.ts, checkKey).
  // Malformed bodies stop here: before admission, before any upstream call.
  const problem = checkBody(call.endpoint, body);
  if (problem) {
    log({ status: 400, errorCode: 'invalid_request' }, null, null, false);
    return sendError(res, 'invalid_request', `${problem.param}: ${problem.message}`, headers, problem.param);
  }
  if (typeof model !== 'string') return; // checked above; narrows the type
  if (call.trace) call.trace.request(body, model);
  const allowed = checkModel(ctx, model);
  if (!allowed.ok) {
    log({ status: 403, errorCode: allowed.code }, null, null, false);
    return sendError(res, allowed.code, allowed.message, headers, 'model');
  }

  const cached = deps.router.resolveCached(ctx.orgId, model);
  const route = cached !== null ? cached : await deps.router.resolve(ctx.orgId, model).catch(unavailable);
  if (route === null) return sendError(res, 'service_unavailable', 'Model routes cannot be loaded right now; try again shortly.', { ...headers, 'retry-after': 1 });
  if (!route) {
    log({ status: 404, errorCode: 'model_not_found' }, null, null, false);
    return sendError(res, 'model_not_found', `The model \`${model}\` does not exist or you do not have access to it.`, headers, 'model');
  }

  const stream = body.stream === true;
  // A true upper bound of what the provider can bill (n, best_of, images, tools …); a request
  // whose cost cannot be bounded passes no hard budget (docs/limits.md lists the bound per field).
  const bound = requestBound(call.endpoint, body, route.price);
  const tokenBound = bound.promptTokens + bound.outputTokens;
  const costBoundMicro = route.price && !bound.unbounded ? costMicro(route.price, bound.promptTokens, bound.outputTokens) : undefined;
  if (call.trace) call.trace.admitting();
  if (!deps.orgSlots.acquire(ctx.orgId)) {
    log({ status: 429, errorCode: 'concurrency_limit_exceeded' }, null, null, false, 'org');
    headers['retry-after'] = 1;
    const limit = deps.orgSlots.limit;
    return sendError(res, 'concurrency_limit_exceeded', `Too many requests in flight for this org on this replica: at most ${limit} at a time.`, headers, null, { level: 'org', limit, reset_at: null });
  }
  // An unpriced model is refused by a hard budget as unpriced, whatever else it asks for.
  const unbounded = route.price ? bound.unbounded : undefined;
  const admitting = deps.admission.admit({ ctx, model, tokenBound, costBoundMicro, unbounded, now });
  const admission = admitting instanceof Promise ? await admitting.catch((err: unknown) => {
    deps.orgSlots.release(ctx.orgId);
    throw err;
  }) : admitting;
  rateLimitHeaders(admission.headers, headers);
  if (call.trace) call.trace.admitted(admission);
  if (!admission.ok) {
    deps.orgSlots.release(ctx.orgId);
    if (admission.resetAt !== null) headers['retry-after'] = Math.max(1, Math.ceil((admission.resetAt - now) / 1000));
    log({ status: ERRORS[admission.code].status, errorCode: admission.code }, null, null, false, admission.level);
    const extra = { level: admission.level, limit: admission.limit, reset_at: admission.resetAt === null ? null : iso(admission.resetAt), ...admission.details };
    return sendError(res, admission.code, admission.message, headers, null, extra);
  }

  // What a response without usage is charged for its prompt (flagged as estimated).
  const promptEstimate = Math.ceil(call.bodyBytes / 4);
  // Settle and log: called by forward() BEFORE the last bytes reach the client, so the log row is
  // in the crash journal before the client can see its answer complete; at most once.
  let settled = false;
  const settle = (r: ForwardResult): void => {
    if (settled) return;
    settled = true;
    if (call.trace) call.trace.settling(r);
    // The upstream answered without usage: meter an estimate, and flag it, rather than nothing.
    const usage = r.usage ?? (r.status < 400 ? { tokensIn: promptEstimate, tokensOut: 0 } : undefined);
    const estimated = r.estimated || (r.usage === undefined && usage !== undefined);
    const priced = !usage ? 0 : route.price ? costMicro(route.price, usage.tokensIn, usage.tokensOut) : null;
    // Never a NaN into the ledger (an upstream reporting absurd usage): unpriced instead.
    const cost = priced === null || Number.isFinite(priced) ? priced : null;
    admission.ticket.settle({ tokens: usage ? usage.tokensIn + usage.tokensOut : 0, costMicro: cost ?? 0 });
    deps.orgSlots.release(ctx.orgId);
    log({ ...r, usage, estimated }, route.provider, cost, usage !== undefined && !route.price);
  };
  try {
    const prepared = prepareBody(body, call.raw, route, stream);
    const meter = new OpenAIStreamMeter(prepared.stripUsage, promptEstimate);
    const { config } = deps;
    const up = {
      route, path: PATHS[call.endpoint], headers: upstreamHeaders(route), body: prepared.body, stream,
      timeoutMs: config.upstreamTimeoutMs, firstByteMs: config.upstreamFirstByteTimeoutMs, stallMs: config.clientStallMs, drainMs: config.abortDrainMs, maxBytes: config.upstreamResponseLimitBytes,
    };
    if (call.trace) up.headers = call.trace.upstream(route, up.path, up.headers);
    await forward(res, up, meter, headers, deps.upstreamPool, settle);
  } finally {
    // Only if forwarding failed before an answer (a bug): the reservation is still released.
    settle({ status: 502, usage: undefined, estimated: false, errorCode: 'internal_error', streamed: stream });
  }
}

const SCOPE_BIT = Object.fromEntries(Object.entries(ENDPOINT_SCOPE).map(([e, s]) => [e, scopeBit(s)])) as Record<Endpoint, number>;

/**
 * The checks a key passes before its body is read: status, expiry, an old secret's grace period,
 * the endpoint's scope and the IP allowlists. A refusal is logged (model unknown: '') and returned.
 */
export function checkKey(deps: Deps, ctx: KeyContext, endpoint: Endpoint, ip: string, now: number): { code: ErrorCode; message: string } | null {
  const access = checkAccess(ctx, now);
  const refused = !access.ok ? access : checkCaller(ctx, SCOPE_BIT[endpoint], ENDPOINT_SCOPE[endpoint], ip);
  if (refused.ok) return null;
  // An old secret past its grace period is not a credential: not logged against the key.
  if (refused.code !== 'invalid_api_key') {
    const call = { endpoint, ip } as ProxyCall;
    enqueueLog(deps, call, ctx, randomUUID(), '', null, { status: ERRORS[refused.code].status, errorCode: refused.code }, null, false, now, performance.now());
  }
  return refused;
}

/** The model name as logged: a name the body check would refuse (lone surrogates, NUL) is logged as ''. */
const loggable = (model: unknown): string =>
  typeof model === 'string' && model.length <= 256 && model.isWellFormed() && !model.includes('\u0000') ? model : '';

const PATHS: Record<Endpoint, string> = { 'chat/completions': '/chat/completions', completions: '/completions', embeddings: '/embeddings' };

/** A cold lookup that needs the database while it is unreachable: answered as a 503, not a bug. */
const unavailable = (): null => null;

function enqueueLog(
  deps: Deps, call: ProxyCall, ctx: KeyContext, requestId: string, model: string, provider: string | null,
  r: Pick<ForwardResult, 'status' | 'errorCode'> & Partial<ForwardResult>, cost: number | null, unpriced: boolean, now: number, started: number, level: string | null = null,
): void {
  if (call.trace) call.trace.logged(r, cost, level);
  const row = {
    request_id: requestId,
    created_at: iso(now),
    org_id: ctx.orgId,
    team_id: ctx.teamId,
    user_id: ctx.userId,
    key_id: ctx.keyId,
    secret_id: ctx.secretId,
    endpoint: call.endpoint,
    model,
    provider,
    status_code: r.status,
    error_code: r.errorCode,
    streamed: r.streamed ? 1 : 0,
    tokens_in: r.usage?.tokensIn ?? 0,
    tokens_out: r.usage?.tokensOut ?? 0,
    cached_tokens: r.usage?.cachedTokens ?? 0,
    reasoning_tokens: r.usage?.reasoningTokens ?? 0,
    cost_micro: cost,
    unpriced: unpriced ? 1 : 0,
    usage_estimated: r.estimated ? 1 : 0,
    latency_ms: Math.round(performance.now() - started),
    client_ip: call.ip,
    upstream_ms: r.upstreamMs ?? null,
    ttfb_ms: r.ttfbMs ?? null,
  };
  deps.logWriter.enqueue(row);
  // level: of an admission refusal (tollgate_admission_refusals_total)
  deps.metrics.request(row, level);
}
