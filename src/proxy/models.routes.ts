// GET /v1/models: the models this key can call: explicitly routed models, plus, for a catch-all
// credential, the upstream's own list (cached for a minute). In OpenAI's list shape, or in
// Anthropic's when the request carries `anthropic-version` (as the Anthropic SDK and Claude Code
// send it) — errors then in Anthropic's shape too.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.ts';
import { errorBody, ERRORS, type ErrorCode } from '../http/errors.ts';
import { adapterFor } from '../providers/registry.ts';
import { clientErrorBody } from './client-errors.ts';
import { authenticate, bearer } from './authenticate.ts';
import { checkAccess, checkCaller } from '../policy/access.ts';
import { scopeBit } from '../policy/scopes.ts';
import { clientIp } from '../net/client-ip.ts';
import { poolFor } from '../providers/http-pool.ts';
import type { ResolvedRoute } from '../providers/types.ts';
import { DEMO_MODEL } from '../providers/demo/index.ts';
import { explainKey } from '../policy/explain.ts';
import type { KeyContext } from '../keys/key-context.ts';

interface ModelEntry { id: string; object: 'model'; created: number; owned_by: string; display_name?: string }

const upstreamLists = new WeakMap<Deps, Map<number, { at: number; models: ModelEntry[] }>>();

async function upstreamModels(deps: Deps, route: ResolvedRoute): Promise<ModelEntry[]> {
  let cache = upstreamLists.get(deps);
  if (!cache) upstreamLists.set(deps, (cache = new Map()));
  const now = deps.clock.now();
  const hit = cache.get(route.credentialId);
  if (hit && now - hit.at < 60_000) return hit.models;
  // A provider without a model list (the adapter has no modelsRequest) lists nothing of its own.
  const request = adapterFor(route.provider).modelsRequest?.(route);
  if (!request) return [];
  try {
    const url = new URL(route.baseUrl + request.path);
    const res = await poolFor(url.origin, route.credentialId, deps.upstreamPool).request({ method: 'GET', path: url.pathname + url.search, headers: request.headers, headersTimeout: 10_000, bodyTimeout: 10_000 });
    // OpenAI's `data: [{id, created}]`, Anthropic's `data: [{id, created_at}]`, Gemini's `models: [{name: "models/…"}]`.
    const json = (await res.body.json()) as { data?: UpstreamModel[]; models?: UpstreamModel[] };
    const list = Array.isArray(json.data) ? json.data : Array.isArray(json.models) ? json.models : undefined;
    const models = res.statusCode === 200 && list ? list.map((m) => entryOf(m, route.provider)).filter((m): m is ModelEntry => m !== undefined) : [];
    cache.set(route.credentialId, { at: now, models });
    return models;
  } catch {
    return hit?.models ?? [];
  }
}

interface UpstreamModel { id?: unknown; name?: unknown; created?: unknown; created_at?: unknown; owned_by?: unknown; display_name?: unknown; displayName?: unknown }

function entryOf(m: UpstreamModel, provider: string): ModelEntry | undefined {
  const id = typeof m.id === 'string' ? m.id : typeof m.name === 'string' ? m.name.replace(/^models\//, '') : undefined;
  if (id === undefined) return undefined;
  const created = Number(m.created) || (typeof m.created_at === 'string' ? Math.floor(Date.parse(m.created_at) / 1000) || 0 : 0);
  const display = typeof m.display_name === 'string' ? m.display_name : typeof m.displayName === 'string' ? m.displayName : undefined;
  return { id, object: 'model', created, owned_by: String(m.owned_by ?? provider), ...(display ? { display_name: display } : {}) };
}

/** The Anthropic SDK (and Claude Code) send `anthropic-version` on every request. */
const wantsAnthropic = (req: FastifyRequest): boolean => req.headers['anthropic-version'] !== undefined;

function refuse(req: FastifyRequest, reply: FastifyReply, code: ErrorCode, message: string): void {
  const status = ERRORS[code].status;
  reply.code(status).send(wantsAnthropic(req) ? clientErrorBody('anthropic', code, message, status) : errorBody(code, message));
}

/** The usable key behind a /v1 read, or undefined after answering 401/403. */
async function usableKey(deps: Deps, req: FastifyRequest, reply: FastifyReply, scope: 'models' | null): Promise<KeyContext | undefined> {
  const now = deps.clock.now();
  const ip = clientIp(req.raw, deps.config.trustProxy);
  const throttled = deps.authThrottle.blockedUntil(ip, now) !== 0;
  const auth = await Promise.resolve(authenticate(deps, deps.keyCache, bearer(req.headers), now, throttled)).catch(() => null);
  if (!auth) {
    refuse(req, reply, 'service_unavailable', 'The key store is unreachable; try again shortly.');
    return undefined;
  }
  if (!auth.ok) {
    if (auth.code !== 'too_many_auth_failures') deps.authThrottle.fail(ip, now);
    refuse(req, reply, auth.code, auth.message);
    return undefined;
  }
  const access = checkAccess(auth.ctx, now);
  // GET /v1/key describes the key to its holder: any scope may read it; the IP allowlists still apply.
  const refused = !access.ok ? access : checkCaller(auth.ctx, scope ? scopeBit(scope) : 0, scope ?? '', ip);
  if (!refused.ok) {
    if (refused.code === 'invalid_api_key') deps.authThrottle.fail(ip, now);
    refuse(req, reply, refused.code, refused.message);
    return undefined;
  }
  return auth.ctx;
}

export async function listModels(deps: Deps, req: FastifyRequest, reply: FastifyReply) {
  const ctx = await usableKey(deps, req, reply, 'models');
  if (!ctx) return reply;
  const { names, catchAll } = await deps.router.models(ctx.orgId);
  const byId = new Map<string, ModelEntry>();
  if (catchAll) for (const m of await upstreamModels(deps, catchAll)) byId.set(m.id, m);
  // The demo model (TOLLGATE_DEMO) says what it is: answered by Tollgate itself, not a provider.
  for (const id of names) byId.set(id, { id, object: 'model', created: 0, owned_by: deps.config.demo && id === DEMO_MODEL ? 'tollgate-demo' : 'tollgate' });
  // Exactly what this key may call: the org's, its team's and its own rules applied.
  const data = [...byId.values()].filter((m) => ctx.models.refusal(m.id) === null);
  if (!wantsAnthropic(req)) return reply.send({ object: 'list', data: data.map(({ display_name: _, ...m }) => m) });
  // https://docs.anthropic.com/en/api/models-list: newest first, one page (has_more false).
  const listed = data.map((m) => ({ type: 'model', id: m.id, display_name: m.display_name ?? m.id, created_at: new Date(m.created * 1000).toISOString() }));
  return reply.send({ data: listed, has_more: false, first_id: listed[0]?.id ?? null, last_id: listed[listed.length - 1]?.id ?? null });
}

/** GET /v1/key: the calling key's own limits, usage and budgets at every level (like OpenRouter's). */
export async function describeKey(deps: Deps, req: FastifyRequest, reply: FastifyReply) {
  const ctx = await usableKey(deps, req, reply, null);
  if (!ctx) return reply;
  return reply.send({ data: await explainKey(deps, ctx) });
}
