// Step 1 of the hot path: bearer secret → KeyContext. Malformed secrets are rejected before any
// lookup; a warm key costs one SHA-256 and one Map lookup, no database query.
import { hashSecret, isWellFormedKey } from '../keys/key-format.ts';
import type { KeyCache } from '../keys/key-cache.ts';
import { loadKeyContext, type KeyContext } from '../keys/key-context.ts';
import type { Deps } from '../deps.ts';

export type AuthOutcome = { ok: true; ctx: KeyContext } | { ok: false; code: 'missing_credentials' | 'invalid_api_key' | 'too_many_auth_failures'; message: string };

/**
 * The one credential of a request, as each client sends it: `Authorization: Bearer` (OpenAI SDKs,
 * Claude Code's ANTHROPIC_AUTH_TOKEN), else `x-api-key` (the Anthropic SDK, Claude Code's
 * ANTHROPIC_API_KEY), else `x-goog-api-key` (the Gemini SDKs). The first present is the credential;
 * the others are not read (a request is never authenticated by two keys).
 */
export function bearer(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string' && auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ') return auth.slice(7).trim();
  const apiKey = headers['x-api-key'] ?? headers['x-goog-api-key'];
  return typeof apiKey === 'string' ? apiKey.trim() : undefined;
}

const MISSING: AuthOutcome = { ok: false, code: 'missing_credentials', message: 'Missing API key: send it as "Authorization: Bearer sk-tg-…" (or in an x-api-key or x-goog-api-key header).' };
const INVALID: AuthOutcome = { ok: false, code: 'invalid_api_key', message: 'Incorrect API key provided.' };
const THROTTLED: AuthOutcome = { ok: false, code: 'too_many_auth_failures', message: 'Too many requests with invalid API keys from this address; try again later.' };

/**
 * Answers at once for a warm (or known-unknown) key; only a cold key returns a promise (a DB read).
 * `throttled`: the caller's address has failed too often (proxy/auth-throttle.ts): a warm key
 * still passes (a shared NAT address does not lock out good keys), anything else is refused
 * without a lookup.
 */
export function authenticate(deps: Pick<Deps, 'db' | 'orgAccess'>, cache: KeyCache, secret: string | undefined, now: number, throttled = false): AuthOutcome | Promise<AuthOutcome> {
  if (!secret) return throttled ? THROTTLED : MISSING;
  if (!isWellFormedKey(secret)) return throttled ? THROTTLED : INVALID;
  const hash = hashSecret(secret);
  const cached = cache.get(hash);
  if (cached) return { ok: true, ctx: cached };
  if (throttled) return THROTTLED;
  if (cache.isKnownUnknown(hash, now)) return INVALID;
  return load(deps, cache, hash, now);
}

async function load(deps: Pick<Deps, 'db' | 'orgAccess'>, cache: KeyCache, hash: string, now: number): Promise<AuthOutcome> {
  const generation = cache.generation;
  const ctx = await loadKeyContext(deps.db.kysely, deps.orgAccess, hash);
  // An admin change that landed while we were loading may have made this row stale: use it for
  // this request (it was read after the change started) but do not cache it.
  const fresh = generation === cache.generation;
  if (!ctx) {
    if (fresh) cache.setUnknown(hash, now);
    return INVALID;
  }
  if (fresh) cache.set(hash, ctx);
  return { ok: true, ctx };
}
