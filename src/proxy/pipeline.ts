// ★ The hot path: one /v1 request, top to bottom, whatever its client API (OpenAI chat, completions,
// embeddings, Responses; Anthropic Messages and count_tokens; Gemini generateContent). See
// docs/architecture.md for the diagram.
//
//   authenticate (fast-lane.ts, from the headers, before the body is read)
//     ─► access ─► check body ─► route ─► bound the cost ─► admit (limits + budget reservation,
//     all levels, once) ─► for each attempt (router's order: fallbacks, retries):
//          adapter.exchange ─► forward + meter ─┬─ failed before any byte reached the client: next
//                                               └─ answered ─► settle (actual cost replaces the
//                                                  reservation) ─► enqueue log (every attempt in it)
//
// Each step returns a typed outcome; a failed step answers in the client's error shape and stops.
// Nothing here awaits the database on a warm key, and the log row is only enqueued.
import type { ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Deps } from '../deps.ts';
import { iso } from '../clock.ts';
import { checkAccess, checkCaller, checkModel } from '../policy/access.ts';
import { ENDPOINT_SCOPE, scopeBit } from '../policy/scopes.ts';
import { costMicro, usageCostMicro } from '../usage/pricing.ts';
import { requestBound } from '../usage/token-bound.ts';
import { checkBody } from './body-check.ts';
import { CLIENT_FORMAT, isUnsupported, type ClientFormat, type Endpoint, type ExchangeInput, type ProviderAdapter, type ResolvedRoute } from '../providers/types.ts';
import type { ErrorTarget } from './upstream-answer.ts';
import { adapterFor, PROVIDERS } from '../providers/registry.ts';
import type { KeyContext } from '../keys/key-context.ts';
import { forward, type ForwardResult } from './forward.ts';
import { ERRORS, type ErrorCode } from '../http/errors.ts';
import { rateLimitHeaders, sendError, sendJson, type HeaderMap } from './respond.ts';
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
  /** the model named by the URL (Gemini's /v1beta/models/{model}:…); else the body's */
  model?: string;
  /** whether the answer streams, when the URL says so (Gemini's streamGenerateContent); else the body's `stream` */
  stream?: boolean;
  /** this request's spans; null when tracing is off (every call on it is behind one `if`) */
  trace?: RequestTrace | null;
  /** a warning for the operator's log (a failed attempt); never given a secret */
  warn?: (info: Record<string, unknown>, message: string) => void;
}

/** One attempt that failed before the one that answered, as request_logs.attempt_log lists it. */
interface FailedAttempt { provider: string; credential_id: number; deployment_id: number; status: number; error_code: string | null; ms: number }

export async function proxyRequest(deps: Deps, call: ProxyCall): Promise<void> {
  const started = performance.now();
  const now = deps.clock.now();
  const headers: HeaderMap = { 'x-request-id': randomUUID() };
  const { res, body, ctx, endpoint } = call;
  const format = CLIENT_FORMAT[endpoint];
  const model = call.model ?? body.model;
  // Attempts made, and the failed ones (allocated only when an attempt fails).
  let tried = 0;
  let failed: FailedAttempt[] | undefined;
  const log = (r: Pick<ForwardResult, 'status' | 'errorCode'> & Partial<ForwardResult>, provider: string | null, cost: number | null, unpriced: boolean, level: string | null = null) =>
    enqueueLog(deps, call, ctx, String(headers['x-request-id']), loggable(model), provider, r, cost, unpriced, now, started, level, tried, failed);

  // Status, expiry, scope and IP allowlists were checked from the headers (fast-lane.ts, checkKey).
  // Malformed bodies stop here: before admission, before any upstream call.
  const problem = checkBody(endpoint, body, model);
  if (problem) {
    log({ status: 400, errorCode: 'invalid_request' }, null, null, false);
    return fail(res, headers, format, 'invalid_request', `${problem.param}: ${problem.message}`, problem.param);
  }
  if (typeof model !== 'string') return; // checked above; narrows the type
  if (call.trace) call.trace.request(body, model);
  const allowed = checkModel(ctx, model);
  if (!allowed.ok) {
    log({ status: 403, errorCode: allowed.code }, null, null, false);
    return fail(res, headers, format, allowed.code, allowed.message, 'model');
  }

  const cached = deps.router.resolveCached(ctx.orgId, model);
  const route = cached !== null ? cached : await deps.router.resolve(ctx.orgId, model).catch(unavailable);
  if (route === null) return sendError(res, 'service_unavailable', 'Model routes cannot be loaded right now; try again shortly.', { ...headers, 'retry-after': 1 }, null, undefined, format);
  // The try order: a team-scoped credential serves only its team (none left: not this key's model).
  const attempts = route ? deps.router.attempts(route, ctx.teamId) : undefined;
  if (!route || !attempts || attempts.length === 0) {
    log({ status: 404, errorCode: 'model_not_found' }, null, null, false);
    return fail(res, headers, format, 'model_not_found', `The model \`${model}\` does not exist or you do not have access to it.`, 'model');
  }

  const stream = call.stream ?? body.stream === true;
  // A true upper bound of what the provider can bill (n, best_of, images, tools …), priced at the
  // dearest deployment the request may fall back to; a request whose cost cannot be bounded passes
  // no hard budget (docs/limits.md lists the bound per field).
  const price = route.boundPrice;
  const bound = requestBound(endpoint, body, price);
  const tokenBound = bound.promptTokens + bound.outputTokens;
  const costBoundMicro = price && !bound.unbounded ? costMicro(price, bound.promptTokens, bound.outputTokens) : undefined;
  if (call.trace) call.trace.admitting();
  if (!deps.orgSlots.acquire(ctx.orgId)) {
    log({ status: 429, errorCode: 'concurrency_limit_exceeded' }, null, null, false, 'org');
    headers['retry-after'] = 1;
    const limit = deps.orgSlots.limit;
    return fail(res, headers, format, 'concurrency_limit_exceeded', `Too many requests in flight for this org on this replica: at most ${limit} at a time.`, null, { level: 'org', limit, reset_at: null });
  }
  // An unpriced model is refused by a hard budget as unpriced, whatever else it asks for.
  const unbounded = price ? bound.unbounded : undefined;
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
    return fail(res, headers, format, admission.code, admission.message, null, extra);
  }

  // What a response without usage is charged for its prompt (flagged as estimated).
  const promptEstimate = Math.ceil(call.bodyBytes / 4);
  // Settle, then log: called by forward() BEFORE the last bytes reach the client; at most once.
  // Priced at the deployment that answered. A shared counter store either holds the request's
  // reservation until it applies the settlement (the actual is within it: a crash meanwhile charges
  // the reservation), or the log row is written once it has applied it and forward() ends the
  // answer after that: a process killed at any point leaves the shared spend at or above what its
  // journal brings into the log, and every answer a client saw complete is in both.
  let settled = false;
  let answeredBy: ResolvedRoute | undefined;
  const settle = (r: ForwardResult): void | Promise<void> => {
    if (settled) return;
    settled = true;
    if (call.trace) call.trace.settling(r);
    const by = answeredBy;
    // The upstream answered without usage: meter an estimate, and flag it, rather than nothing.
    const usage = r.usage ?? (r.status < 400 && endpoint !== 'messages/count_tokens' ? { tokensIn: promptEstimate, tokensOut: 0 } : undefined);
    const estimated = r.estimated || (r.usage === undefined && usage !== undefined);
    const priced = !usage ? 0 : by?.price ? usageCostMicro(by.price, usage) : null;
    // Never a NaN into the ledger (an upstream reporting absurd usage): unpriced instead.
    const cost = priced === null || Number.isFinite(priced) ? priced : null;
    const applied = admission.ticket.settle({ tokens: usage ? usage.tokensIn + usage.tokensOut : 0, costMicro: cost ?? 0 });
    deps.orgSlots.release(ctx.orgId);
    const write = () => log({ ...r, usage, estimated }, by?.provider ?? null, cost, usage !== undefined && !by?.price);
    if (applied) return applied.then(write);
    write();
  };
  try {
    const { config } = deps;
    const input: ExchangeInput = { endpoint, body, raw: call.raw, headers: call.headers, route: attempts[0]!.deployment, stream, model, promptEstimate };
    let unsupported: { by: ResolvedRoute; message: string } | undefined;
    for (let i = 0; i < attempts.length; i++) {
      const { deployment, delayMs } = attempts[i]!;
      if (delayMs > 0) await sleep(delayMs);
      // The client left while an earlier attempt was failing: no upstream call for an absent client.
      if (i > 0 && res.destroyed) {
        settle({ status: 499, usage: undefined, estimated: false, errorCode: 'client_closed', streamed: stream });
        return;
      }
      input.route = deployment;
      answeredBy = deployment;
      const adapter = adapterFor(deployment.provider);
      const exchange = adapter.exchange(input);
      // This provider cannot serve the client's API: another deployment of the route may.
      if (isUnsupported(exchange)) {
        unsupported ??= { by: deployment, message: exchange.unsupported };
        continue;
      }
      tried++;
      if (exchange.local) {
        const { status, body: answer, usage } = exchange.local;
        await settle({ status, usage, estimated: false, errorCode: null, streamed: false });
        return sendJson(res, status, answer, headers);
      }
      const up = {
        route: deployment, path: exchange.path, headers: exchange.headers, body: exchange.body, stream: exchange.stream,
        timeoutMs: route.timeoutMs ?? config.upstreamTimeoutMs, firstByteMs: config.upstreamFirstByteTimeoutMs, stallMs: config.clientStallMs, drainMs: config.abortDrainMs, maxBytes: config.upstreamResponseLimitBytes,
        mapJson: exchange.mapJson, errors: errorTarget(deployment, endpoint, adapter), responsesApi: endpoint === 'responses',
        retryable: i < attempts.length - 1,
      };
      if (call.trace) up.headers = call.trace.upstream(deployment, up.path, up.headers);
      const r = await forward(res, up, exchange.meter, headers, deps.upstreamPool, settle);
      // For the circuit breaker: a deployment failing (5xx, 429, timeout, unreachable), or not.
      deps.router.report(deployment, !r.retry && r.status !== 429 && r.status < 500);
      if (!r.retry) return;
      const miss: FailedAttempt = { provider: deployment.provider, credential_id: deployment.credentialId, deployment_id: deployment.deploymentId, status: r.status, error_code: r.errorCode, ms: r.upstreamMs ?? 0 };
      (failed ??= []).push(miss);
      call.warn?.({ requestId: headers['x-request-id'], model, attempt: tried, ...miss }, 'upstream attempt failed; trying the next deployment');
    }
    // Earlier deployments failed (their failures were not answered) and the rest cannot serve this API.
    if (failed) {
      settle({ status: 502, usage: undefined, estimated: false, errorCode: 'upstream_error', streamed: false });
      return fail(res, headers, format, 'upstream_error', `Every deployment of \`${model}\` that serves /v1/${endpoint} failed; try again shortly.`);
    }
    // No deployment of this route speaks the client's API (a Responses call routed to Anthropic only).
    answeredBy = unsupported?.by;
    const message = unsupported?.message ?? `No deployment of \`${model}\` can serve /v1/${endpoint}.`;
    settle({ status: 400, usage: undefined, estimated: false, errorCode: 'endpoint_not_supported', streamed: false });
    return fail(res, headers, format, 'endpoint_not_supported', message, 'model');
  } finally {
    // Only if forwarding failed before an answer (a bug): the reservation is still released.
    settle({ status: 502, usage: undefined, estimated: false, errorCode: 'internal_error', streamed: stream });
  }
}

const SCOPE_BIT = Object.fromEntries(Object.entries(ENDPOINT_SCOPE).map(([e, s]) => [e, scopeBit(s)])) as Record<Endpoint, number>;

// Where a deployment's errors go for each client API: built once per cached deployment, not per request.
const errorTargets = new WeakMap<ResolvedRoute, Partial<Record<Endpoint, ErrorTarget>>>();
function errorTarget(deployment: ResolvedRoute, endpoint: Endpoint, adapter: ProviderAdapter): ErrorTarget {
  let byEndpoint = errorTargets.get(deployment);
  if (!byEndpoint) errorTargets.set(deployment, (byEndpoint = {}));
  // native: the provider answers this client API in the client's own format (its errors relay as they are)
  return (byEndpoint[endpoint] ??= { format: CLIENT_FORMAT[endpoint], native: PROVIDERS.get(deployment.provider)?.native.includes(endpoint) ?? CLIENT_FORMAT[endpoint] === 'openai', adapter });
}

/** An error answer in the client's format (a module function: no closure per request). */
const fail = (res: ServerResponse, headers: HeaderMap, format: ClientFormat, code: ErrorCode, message: string, param: string | null = null, extra?: Record<string, unknown>): void =>
  sendError(res, code, message, headers, param, extra, format);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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

/** A cold lookup that needs the database while it is unreachable: answered as a 503, not a bug. */
const unavailable = (): null => null;

function enqueueLog(
  deps: Deps, call: ProxyCall, ctx: KeyContext, requestId: string, model: string, provider: string | null,
  r: Pick<ForwardResult, 'status' | 'errorCode'> & Partial<ForwardResult>, cost: number | null, unpriced: boolean, now: number, started: number, level: string | null = null,
  tried = 0, failed?: FailedAttempt[],
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
    // upstream calls made (1 for a request refused before any: the column's default meaning)
    attempts: Math.max(1, tried),
    attempt_log: failed ? JSON.stringify(failed) : null,
  };
  deps.logWriter.enqueue(row);
  // level: of an admission refusal (tollgate_admission_refusals_total)
  deps.metrics.request(row, level);
}
