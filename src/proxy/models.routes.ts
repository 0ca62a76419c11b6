// GET /v1/models: the models this key can call: explicitly routed models, plus, for a catch-all
// credential, the upstream's own list (cached for a minute).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.ts';
import { errorBody, ERRORS } from '../http/errors.ts';
import { authenticate, bearer } from './authenticate.ts';
import { checkAccess, checkCaller } from '../policy/access.ts';
import { scopeBit } from '../policy/scopes.ts';
import { clientIp } from '../net/client-ip.ts';
import { poolFor } from '../providers/http-pool.ts';
import type { ResolvedRoute } from '../providers/types.ts';
import { DEMO_MODEL } from '../providers/demo/index.ts';
import { explainKey } from '../policy/explain.ts';
import type { KeyContext } from '../keys/key-context.ts';

interface ModelEntry { id: string; object: 'model'; created: number; owned_by: string }

const upstreamLists = new WeakMap<Deps, Map<number, { at: number; models: ModelEntry[] }>>();

async function upstreamModels(deps: Deps, route: ResolvedRoute): Promise<ModelEntry[]> {
  let cache = upstreamLists.get(deps);
  if (!cache) upstreamLists.set(deps, (cache = new Map()));
  const now = deps.clock.now();
  const hit = cache.get(route.credentialId);
  if (hit && now - hit.at < 60_000) return hit.models;
  try {
    const url = new URL(route.baseUrl + '/models');
    const res = await poolFor(url.origin, route.credentialId, deps.upstreamPool).request({ method: 'GET', path: url.pathname, headers: { authorization: `Bearer ${route.apiKey}` }, headersTimeout: 10_000, bodyTimeout: 10_000 });
    const json = (await res.body.json()) as { data?: Array<{ id?: unknown; created?: unknown; owned_by?: unknown }> };
    const models = res.statusCode === 200 && Array.isArray(json.data)
      ? json.data.filter((m) => typeof m.id === 'string').map((m) => ({ id: m.id as string, object: 'model' as const, created: Number(m.created) || 0, owned_by: String(m.owned_by ?? route.provider) }))
      : [];
    cache.set(route.credentialId, { at: now, models });
    return models;
  } catch {
    return hit?.models ?? [];
  }
}

/** The usable key behind a /v1 read, or undefined after answering 401/403. */
async function usableKey(deps: Deps, req: FastifyRequest, reply: FastifyReply, scope: 'models' | null): Promise<KeyContext | undefined> {
  const now = deps.clock.now();
  const ip = clientIp(req.raw, deps.config.trustProxy);
  const throttled = deps.authThrottle.blockedUntil(ip, now) !== 0;
  const auth = await Promise.resolve(authenticate(deps, deps.keyCache, bearer(req.headers), now, throttled)).catch(() => null);
  if (!auth) {
    reply.code(503).send(errorBody('service_unavailable', 'The key store is unreachable; try again shortly.'));
    return undefined;
  }
  if (!auth.ok) {
    if (auth.code !== 'too_many_auth_failures') deps.authThrottle.fail(ip, now);
    reply.code(ERRORS[auth.code].status).send(errorBody(auth.code, auth.message));
    return undefined;
  }
  const access = checkAccess(auth.ctx, now);
  // GET /v1/key describes the key to its holder: any scope may read it; the IP allowlists still apply.
  const refused = !access.ok ? access : checkCaller(auth.ctx, scope ? scopeBit(scope) : 0, scope ?? '', ip);
  if (!refused.ok) {
    if (refused.code === 'invalid_api_key') deps.authThrottle.fail(ip, now);
    reply.code(ERRORS[refused.code].status).send(errorBody(refused.code, refused.message));
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
  return reply.send({ object: 'list', data: [...byId.values()].filter((m) => ctx.models.refusal(m.id) === null) });
}

/** GET /v1/key: the calling key's own limits, usage and budgets at every level (like OpenRouter's). */
export async function describeKey(deps: Deps, req: FastifyRequest, reply: FastifyReply) {
  const ctx = await usableKey(deps, req, reply, null);
  if (!ctx) return reply;
  return reply.send({ data: await explainKey(deps, ctx) });
}
