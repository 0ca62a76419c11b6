// Authenticates /api callers: the master admin key (superadmin of the default organization) or an
// org-scoped admin key. Sent as `X-Admin-Key: <key>` or `Authorization: Bearer <key>`.
// A /v1 API key is a known credential without admin rights: 403, not 401.
import type { FastifyRequest } from 'fastify';
import type { Deps } from '../deps.ts';
import { ADMIN_KEY_PREFIX, digestsEqual, hashSecret, isWellFormedKey, KEY_PREFIX } from '../keys/key-format.ts';
import { ApiError } from './errors.ts';
import type { Actor } from './actor.ts';
import { bearer } from '../proxy/authenticate.ts';
import { clientIp } from '../net/client-ip.ts';

export const MASTER_KEY_SETTING = 'admin_key_hash';

export function adminSecret(req: FastifyRequest): string | undefined {
  const header = req.headers['x-admin-key'];
  if (typeof header === 'string' && header.trim()) return header.trim();
  const auth = req.headers.authorization;
  return typeof auth === 'string' ? bearer({ authorization: auth }) : undefined;
}

export async function resolveActor(deps: Deps, req: FastifyRequest, masterHash: string): Promise<Actor> {
  const ip = clientIp(req.raw, deps.config.trustProxy);
  const now = deps.clock.now();
  const blocked = deps.authThrottle.blockedUntil(ip, now);
  const secret = adminSecret(req);
  const hash = secret ? hashSecret(secret) : '';
  if (secret && digestsEqual(hash, masterHash)) {
    return { type: 'admin_key', id: 'master', orgId: deps.defaultOrgId, role: 'admin', userId: null, superadmin: true, ip };
  }
  // An address that keeps failing (src/proxy/auth-throttle.ts) is refused before any lookup.
  if (blocked !== 0) {
    throw new ApiError('too_many_auth_failures', 'Too many requests with invalid credentials from this address; try again later.', null, { retry_after: Math.max(1, Math.ceil((blocked - now) / 1000)) });
  }
  try {
    return await lookupActor(deps, secret, hash, ip);
  } catch (err) {
    if (err instanceof ApiError && (err.code === 'invalid_api_key' || err.code === 'missing_credentials')) deps.authThrottle.fail(ip, now);
    throw err;
  }
}

async function lookupActor(deps: Deps, secret: string | undefined, hash: string, ip: string): Promise<Actor> {
  if (!secret) throw new ApiError('missing_credentials', 'Missing admin credential: send X-Admin-Key or Authorization: Bearer.');
  const db = deps.db.kysely;
  if (secret.startsWith(ADMIN_KEY_PREFIX) && isWellFormedKey(KEY_PREFIX + secret.slice(ADMIN_KEY_PREFIX.length))) {
    const row = await db.selectFrom('admin_keys').select(['id', 'org_id', 'role']).where('key_hash', '=', hash).where('revoked_at', 'is', null).executeTakeFirst();
    if (row) return { type: 'admin_key', id: String(row.id), orgId: row.org_id, role: row.role === 'admin' ? 'admin' : 'member', userId: null, superadmin: false, ip };
  } else if (isWellFormedKey(secret)) {
    const key = await db.selectFrom('api_keys').select('id').where('key_hash', '=', hash).where('status', '=', 'active').executeTakeFirst();
    if (key) throw new ApiError('forbidden', 'This API key is for /v1 requests; the admin API needs an admin key.');
  }
  throw new ApiError('invalid_api_key', 'Invalid admin credential.');
}

/** Org admins (and the master key) may do anything inside their organization. */
export function requireAdmin(actor: Actor): void {
  if (actor.role !== 'admin') throw new ApiError('forbidden', 'This action needs the organization admin role.');
}

export function requireSuperadmin(actor: Actor): void {
  if (!actor.superadmin) throw new ApiError('forbidden', 'This action needs the master admin key.');
}
