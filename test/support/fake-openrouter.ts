// The fake upstream's OpenRouter key management API (https://openrouter.ai/api/v1/keys), in memory,
// per fake, following OpenRouter's documented wire format:
//   POST   /api/v1/keys          {name, limit?, limit_reset?, include_byok_in_limit?, expires_at?}
//                                → 201 {data: <key>, key: "sk-or-v1-…"} (the secret in this answer only)
//   GET    /api/v1/keys          ?offset, ?include_disabled → {data: [<key>…]} (100 a page)
//   GET    /api/v1/keys/{hash}   → {data: <key>}
//   PATCH  /api/v1/keys/{hash}   {name?, disabled?, limit?, limit_reset?, include_byok_in_limit?} → {data: <key>}
//   DELETE /api/v1/keys/{hash}   → {deleted: true}
//   <key> = {hash, name, label, disabled, limit, limit_remaining, limit_reset, include_byok_in_limit,
//            usage, usage_daily, usage_weekly, usage_monthly, byok_usage…, created_at, updated_at, expires_at}
// Errors are {error: {code: <status>, message}}. Only the management key a test sets is accepted
// (Authorization: Bearer); an issued key is refused here as at OpenRouter. `failStatus` makes
// every management call fail (an outage), to test retries.
import { createHash, randomBytes } from 'node:crypto';
import type { FakeRoute, FakeUpstream } from './fake-upstream.ts';
import type { Ctx } from './fake-kit.ts';
import { send } from './fake-kit.ts';

export interface FakeOpenRouterKey {
  hash: string;
  name: string;
  label: string;
  disabled: boolean;
  limit: number | null;
  limit_reset: string | null;
  include_byok_in_limit: boolean;
  usage: number;
  created_at: string;
  updated_at: string | null;
  expires_at: string | null;
}

export interface FakeOpenRouter {
  /** the management key this fake accepts; none set: every call is refused (401) */
  managementKey: string | undefined;
  /** answer every management call with this status (an outage); undefined: work */
  failStatus: number | undefined;
  /** the keys that exist, by hash (a deleted key is gone) */
  keys: Map<string, FakeOpenRouterKey>;
  /** secrets issued, by hash (only so a test can check none leaked anywhere) */
  secrets: Map<string, string>;
}

// One state per fake (its options object is its own), so parallel gateways never share keys.
const states = new WeakMap<object, FakeOpenRouter>();
function stateOf(options: object): FakeOpenRouter {
  let s = states.get(options);
  if (!s) states.set(options, (s = { managementKey: undefined, failStatus: undefined, keys: new Map(), secrets: new Map() }));
  return s;
}

/** The OpenRouter management API state of a fake upstream (tests set managementKey, failStatus). */
export const openrouterOf = (fake: FakeUpstream): FakeOpenRouter => stateOf(fake.options);

const PREFIX = '/api/v1/keys';

function error(ctx: Ctx, status: number, message: string): void {
  send(ctx, status, { error: { code: status, message } });
}

function view(k: FakeOpenRouterKey) {
  const remaining = k.limit === null ? null : Math.max(0, k.limit - k.usage);
  return {
    ...k,
    limit_remaining: remaining,
    usage_daily: k.usage, usage_weekly: k.usage, usage_monthly: k.usage,
    byok_usage: 0, byok_usage_daily: 0, byok_usage_weekly: 0, byok_usage_monthly: 0,
  };
}

const isUtc = (v: unknown): v is string => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(v) && Number.isFinite(Date.parse(v));
const LIMIT_RESETS = new Set(['daily', 'weekly', 'monthly']);

/** The body's problem, OpenRouter-style, or undefined. */
function badFields(body: any, creating: boolean): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'Invalid request body';
  if (creating && (typeof body.name !== 'string' || body.name.trim() === '')) return 'name: Required';
  if (!creating && body.name !== undefined && typeof body.name !== 'string') return 'name: Expected string';
  if (body.limit !== undefined && body.limit !== null && (typeof body.limit !== 'number' || body.limit < 0)) return 'limit: Expected a non-negative number';
  if (body.limit_reset !== undefined && body.limit_reset !== null && !LIMIT_RESETS.has(body.limit_reset)) return 'limit_reset: Invalid enum value';
  if (body.disabled !== undefined && typeof body.disabled !== 'boolean') return 'disabled: Expected boolean';
  if (creating && body.expires_at !== undefined && body.expires_at !== null && !isUtc(body.expires_at)) return 'expires_at: must be an ISO 8601 timestamp in UTC';
  return undefined;
}

async function handle(ctx: Ctx, method: string, path: string): Promise<void> {
  const s = stateOf(ctx.options);
  if (s.failStatus !== undefined) return error(ctx, s.failStatus, `Simulated OpenRouter failure (${s.failStatus})`);
  const auth = ctx.req.headers.authorization;
  const bearer = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
  if (bearer === undefined) return error(ctx, 401, 'No auth credentials found');
  if (s.managementKey === undefined || bearer !== s.managementKey) {
    const issued = [...s.secrets.values()].includes(bearer);
    return error(ctx, 401, issued ? 'Only management keys can perform this operation' : 'User not found.');
  }
  const hash = path.length > PREFIX.length + 1 ? decodeURIComponent(path.slice(PREFIX.length + 1)) : undefined;
  const at = new Date().toISOString();

  if (hash === undefined) {
    if (method === 'GET') {
      const url = new URL(ctx.req.url ?? '/', 'http://x');
      const offset = Number(url.searchParams.get('offset') ?? 0) || 0;
      const withDisabled = url.searchParams.get('include_disabled') === 'true';
      const all = [...s.keys.values()].filter((k) => withDisabled || !k.disabled);
      return send(ctx, 200, { data: all.slice(offset, offset + 100).map(view) });
    }
    if (method !== 'POST') return error(ctx, 405, 'Method not allowed');
    const problem = badFields(ctx.body, true);
    if (problem) return error(ctx, 400, problem);
    const b = ctx.body;
    const secret = 'sk-or-v1-' + randomBytes(32).toString('hex');
    const key: FakeOpenRouterKey = {
      hash: createHash('sha256').update(secret).digest('hex'),
      name: b.name,
      label: `${secret.slice(0, 12)}...${secret.slice(-3)}`,
      disabled: false,
      limit: typeof b.limit === 'number' ? b.limit : null,
      limit_reset: b.limit_reset ?? null,
      include_byok_in_limit: b.include_byok_in_limit === true,
      usage: 0,
      created_at: at,
      updated_at: null,
      expires_at: b.expires_at ?? null,
    };
    s.keys.set(key.hash, key);
    s.secrets.set(key.hash, secret);
    return send(ctx, 201, { data: view(key), key: secret });
  }

  const key = s.keys.get(hash);
  if (!key) return error(ctx, 404, 'API key not found');
  if (method === 'GET') return send(ctx, 200, { data: view(key) });
  if (method === 'DELETE') {
    s.keys.delete(hash);
    return send(ctx, 200, { deleted: true });
  }
  if (method !== 'PATCH') return error(ctx, 405, 'Method not allowed');
  const problem = badFields(ctx.body, false);
  if (problem) return error(ctx, 400, problem);
  const b = ctx.body;
  if (b.name !== undefined) key.name = b.name;
  if (b.disabled !== undefined) key.disabled = b.disabled;
  if (b.limit !== undefined) key.limit = b.limit;
  if (b.limit_reset !== undefined) key.limit_reset = b.limit_reset;
  if (b.include_byok_in_limit !== undefined) key.include_byok_in_limit = b.include_byok_in_limit === true;
  key.updated_at = at;
  return send(ctx, 200, { data: view(key) });
}

export const openrouterRoutes: FakeRoute[] = [
  {
    matches: (_method, path) => path === PREFIX || path.startsWith(PREFIX + '/'),
    // The management key is checked in handle(), against this fake's own (not requireAuth's
    // inference key): a management key and an inference key are different credentials.
    authorized: () => true,
    error,
    handle,
  },
];
