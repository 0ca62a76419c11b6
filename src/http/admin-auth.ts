// Authenticates /api callers, in this order:
// - the master admin key (superadmin of the default organization);
// - a management key (`sk-tgm-…`, or an organization admin key `sk-tga-…` issued before them):
//   org-scoped with role admin | member | viewer, or team-scoped with role owner | member;
// - a session cookie of a signed-in person (auth/sessions.ts), with CSRF on state changes.
// Keys are sent as `X-Admin-Key: <key>` or `Authorization: Bearer <key>`. A /v1 API key is a
// known credential without admin rights: 403, not 401.
import type { FastifyRequest } from 'fastify';
import type { Deps } from '../deps.ts';
import { ADMIN_KEY_PREFIX, digestsEqual, hashSecret, isWellFormedKey, isWellFormedWithPrefix, MANAGEMENT_KEY_PREFIX } from '../keys/key-format.ts';
import { ApiError } from './errors.ts';
import type { Actor, OrgRole, TeamRole } from './actor.ts';
import { bearer } from '../proxy/authenticate.ts';
import { clientIp } from '../net/client-ip.ts';
import { iso } from '../clock.ts';
import { sessionActor, sessionToken, userAgentOf } from '../auth/sessions.ts';

export const MASTER_KEY_SETTING = 'admin_key_hash';
/** how long a replica trusts its copy of the stored master key hash (a CLI rotation takes effect within this) */
const MASTER_HASH_TTL_MS = 5_000;
/** management keys' last_used_at is written at most this often */
const TOUCH_MS = 60_000;

export function adminSecret(req: FastifyRequest): string | undefined {
  const header = req.headers['x-admin-key'];
  if (typeof header === 'string' && header.trim()) return header.trim();
  const auth = req.headers.authorization;
  return typeof auth === 'string' ? bearer({ authorization: auth }) : undefined;
}

/**
 * The master key's hash. With TOLLGATE_ADMIN_KEY it is fixed; otherwise the stored hash is re-read
 * every few seconds, so `tollgate admin rotate-key` takes effect on every replica without a restart.
 */
export class MasterKey {
  private hash: string;
  private readAt: number;
  private readonly deps: Deps;
  constructor(deps: Deps, initialHash: string) {
    this.deps = deps;
    this.hash = initialHash;
    this.readAt = deps.clock.now();
  }
  async current(): Promise<string> {
    if (this.deps.config.adminKey) return this.hash;
    const now = this.deps.clock.now();
    if (now - this.readAt >= MASTER_HASH_TTL_MS) {
      // Read at most once per period, even when it fails: with the database unreachable the copy
      // in hand stays in use (the master key keeps working for what needs no database).
      this.readAt = now;
      const row = await this.deps.db.kysely.selectFrom('settings').select('value').where('key', '=', MASTER_KEY_SETTING).executeTakeFirst().catch(() => undefined);
      if (row) this.hash = row.value;
    }
    return this.hash;
  }
}

export async function resolveActor(deps: Deps, req: FastifyRequest, master: MasterKey): Promise<Actor> {
  const ip = clientIp(req.raw, deps.config.trustProxy);
  const now = deps.clock.now();
  const blocked = deps.authThrottle.blockedUntil(ip, now);
  const secret = adminSecret(req);
  const hash = secret ? hashSecret(secret) : '';
  if (secret && digestsEqual(hash, await master.current())) {
    return { type: 'admin_key', id: 'master', orgId: deps.defaultOrgId, role: 'admin', userId: null, superadmin: true, ip, userAgent: userAgentOf(req.raw) };
  }
  // An address that keeps failing (src/proxy/auth-throttle.ts) is refused before any lookup.
  if (blocked !== 0) {
    throw new ApiError('too_many_auth_failures', 'Too many requests with invalid credentials from this address; try again later.', null, { retry_after: Math.max(1, Math.ceil((blocked - now) / 1000)) });
  }
  try {
    if (!secret) {
      const token = sessionToken(req.raw);
      if (token) return await sessionActor(deps, req.raw, token, ip);
    }
    return await keyActor(deps, req, secret, hash, ip);
  } catch (err) {
    if (err instanceof ApiError && (err.code === 'invalid_api_key' || err.code === 'missing_credentials')) deps.authThrottle.fail(ip, now);
    throw err;
  }
}

async function keyActor(deps: Deps, req: FastifyRequest, secret: string | undefined, hash: string, ip: string): Promise<Actor> {
  if (!secret) throw new ApiError('missing_credentials', 'Missing credential: send a management key (X-Admin-Key or Authorization: Bearer) or sign in.');
  const db = deps.db.kysely;
  if (isWellFormedWithPrefix(secret, MANAGEMENT_KEY_PREFIX) || isWellFormedWithPrefix(secret, ADMIN_KEY_PREFIX)) {
    const row = await db.selectFrom('admin_keys').select(['id', 'org_id', 'role', 'team_id', 'expires_at', 'last_used_at']).where('key_hash', '=', hash).where('revoked_at', 'is', null).executeTakeFirst();
    if (row) {
      const now = deps.clock.now();
      if (row.expires_at !== null && Date.parse(row.expires_at) <= now) throw new ApiError('key_expired', 'This management key has expired.');
      if (row.last_used_at === null || now - Date.parse(row.last_used_at) >= TOUCH_MS) {
        await db.updateTable('admin_keys').set({ last_used_at: iso(now) }).where('id', '=', row.id).execute();
      }
      const base = { type: 'admin_key' as const, id: String(row.id), orgId: row.org_id, userId: null, superadmin: false, ip, userAgent: userAgentOf(req.raw) };
      if (row.team_id !== null) return { ...base, role: 'member', teams: new Map<number, TeamRole>([[row.team_id, row.role === 'owner' ? 'owner' : 'member']]) };
      return { ...base, role: managementRole(row.role) };
    }
  } else if (isWellFormedKey(secret)) {
    const key = await db.selectFrom('api_keys').select('id').where('key_hash', '=', hash).where('status', '=', 'active').executeTakeFirst();
    if (key) throw new ApiError('forbidden', 'This API key is for /v1 requests; the admin API needs a management key or a signed-in session.');
  }
  throw new ApiError('invalid_api_key', 'Invalid admin credential.');
}

function managementRole(role: string): OrgRole {
  return role === 'admin' || role === 'viewer' ? role : 'member';
}
