// Server-side sign-in sessions. The browser holds a random token in an HTTP-only, SameSite=Lax
// cookie; the database holds only its SHA-256 hash (and the hash of the session's CSRF token), so a
// database dump signs nobody in. A session ends at its absolute expiry, after idle minutes without
// use, when revoked (logout, password change), or when its user is deactivated.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/types.ts';
import type { Deps } from '../deps.ts';
import type { Actor, OrgRole, TeamRole } from '../http/actor.ts';
import { ApiError } from '../http/errors.ts';
import { digestsEqual, hashSecret } from '../keys/key-format.ts';
import { iso } from '../clock.ts';

export const SESSION_COOKIE = 'tollgate_session';
export const CSRF_HEADER = 'x-csrf-token';
/** last_seen_at is written at most this often per session (a read per request, a write per minute) */
const TOUCH_MS = 60_000;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface SessionMeta {
  method: 'password' | 'oidc' | 'invitation';
  ip: string | null;
  userAgent: string | null;
}

export interface NewSession {
  id: number;
  /** the cookie value: shown to the browser once, never stored */
  token: string;
  /** sent back by the client in X-CSRF-Token on every state-changing request */
  csrfToken: string;
  expiresAt: string;
}

function randomToken(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

export async function createSession(trx: Transaction<Database> | Kysely<Database>, deps: Deps, user: { id: number; org_id: number }, meta: SessionMeta, now: number): Promise<NewSession> {
  const token = randomToken('tgs_');
  const csrfToken = randomToken('tgc_');
  const expiresAt = iso(now + deps.config.people.sessionTtlHours * 3_600_000);
  const at = iso(now);
  const row = await trx
    .insertInto('sessions')
    .values({ token_hash: hashSecret(token), csrf_hash: hashSecret(csrfToken), user_id: user.id, org_id: user.org_id, method: meta.method, created_at: at, last_seen_at: at, expires_at: expiresAt, ip: meta.ip, user_agent: meta.userAgent?.slice(0, 500) ?? null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, token, csrfToken, expiresAt };
}

/**
 * Ends every open session of a user (deactivation; a password change keeps the one it was made
 * from: `exceptSessionId`): their next request is 401.
 */
export async function revokeUserSessions(trx: Transaction<Database> | Kysely<Database>, userId: number, at: string, exceptSessionId?: number): Promise<number> {
  let q = trx.updateTable('sessions').set({ revoked_at: at }).where('user_id', '=', userId).where('revoked_at', 'is', null);
  if (exceptSessionId !== undefined) q = q.where('id', '!=', exceptSessionId);
  const res = await q.executeTakeFirst();
  return Number(res.numUpdatedRows);
}

export async function revokeSession(db: Kysely<Database>, sessionId: number, at: string): Promise<void> {
  await db.updateTable('sessions').set({ revoked_at: at }).where('id', '=', sessionId).where('revoked_at', 'is', null).execute();
}

/** The session token from the Cookie header, if any. */
export function sessionToken(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return value || undefined;
    }
  }
  return undefined;
}

/** Whether cookies get the Secure attribute (TOLLGATE_COOKIE_SECURE; 'auto': the request came over HTTPS). */
export function secureCookie(deps: Deps, req: IncomingMessage): boolean {
  const setting = deps.config.people.cookieSecure;
  if (setting !== 'auto') return setting;
  if ((req.socket as TLSSocket).encrypted) return true;
  // Behind a TLS-terminating proxy Tollgate trusts (TOLLGATE_TRUST_PROXY), the proxy says so.
  return deps.config.trustProxy.kind !== 'none' && String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]?.trim() === 'https';
}

export function sessionCookie(deps: Deps, req: IncomingMessage, token: string, expiresAt: string): string {
  const maxAge = Math.max(0, Math.floor((Date.parse(expiresAt) - deps.clock.now()) / 1000));
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secureCookie(deps, req) ? '; Secure' : ''}`;
}

export function clearedSessionCookie(deps: Deps, req: IncomingMessage): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secureCookie(deps, req) ? '; Secure' : ''}`;
}

/** A user's team roles, and the teams where an owner took their self-service right away. */
export async function teamRolesOf(db: Kysely<Database>, userId: number): Promise<{ teams: Map<number, TeamRole>; noSelfService: Set<number> }> {
  const rows = await db
    .selectFrom('memberships as m')
    .innerJoin('teams as t', 't.id', 'm.team_id')
    .select(['m.team_id', 'm.role', 'm.key_create_self'])
    .where('m.user_id', '=', userId)
    .where('t.deleted_at', 'is', null)
    .execute();
  const teams = new Map<number, TeamRole>();
  const noSelfService = new Set<number>();
  for (const r of rows) {
    teams.set(r.team_id, r.role === 'owner' ? 'owner' : 'member');
    if (!r.key_create_self) noSelfService.add(r.team_id);
  }
  return { teams, noSelfService };
}

export function orgRole(role: string): OrgRole {
  return role === 'admin' || role === 'viewer' ? role : 'member';
}

/**
 * The actor of a request that carries a session cookie. 401 `session_expired` when the session
 * ended (expired, idle, revoked, user deactivated) — the client signs in again; 403 `csrf_failed`
 * when a state-changing request lacks the session's CSRF token.
 */
export async function sessionActor(deps: Deps, req: IncomingMessage, token: string, ip: string): Promise<Actor> {
  const db = deps.db.kysely;
  const now = deps.clock.now();
  const row = await db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select(['s.id', 's.csrf_hash', 's.expires_at', 's.last_seen_at', 's.revoked_at', 'u.id as user_id', 'u.org_id', 'u.role', 'u.status'])
    .where('s.token_hash', '=', hashSecret(token))
    .executeTakeFirst();
  if (!row) throw new ApiError('invalid_api_key', 'Invalid session: sign in again.');
  const idleUntil = Date.parse(row.last_seen_at) + deps.config.people.sessionIdleMinutes * 60_000;
  if (row.revoked_at !== null || row.status !== 'active' || Date.parse(row.expires_at) <= now || idleUntil <= now) {
    throw new ApiError('session_expired', 'Your session has ended: sign in again.');
  }
  if (!SAFE_METHODS.has(req.method ?? 'GET')) {
    const sent = req.headers[CSRF_HEADER];
    if (typeof sent !== 'string' || !digestsEqual(hashSecret(sent), row.csrf_hash)) {
      throw new ApiError('csrf_failed', 'Missing or wrong X-CSRF-Token header: a request that changes something with a session must carry the csrf_token from sign-in.', 'X-CSRF-Token');
    }
  }
  if (now - Date.parse(row.last_seen_at) >= TOUCH_MS) {
    await db.updateTable('sessions').set({ last_seen_at: iso(now) }).where('id', '=', row.id).execute();
  }
  const { teams, noSelfService } = await teamRolesOf(db, row.user_id);
  return {
    type: 'user', id: String(row.user_id), orgId: row.org_id, role: orgRole(row.role), userId: row.user_id, superadmin: false, ip,
    userAgent: userAgentOf(req), teams, noSelfService, sessionId: row.id,
  };
}

export function userAgentOf(req: IncomingMessage): string | null {
  const ua = req.headers['user-agent'];
  return typeof ua === 'string' ? ua.slice(0, 500) : null;
}
