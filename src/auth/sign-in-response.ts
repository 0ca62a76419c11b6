// What a successful sign-in answers, whichever way it happened (password, SSO, invitation): the
// user, the session's CSRF token (sent back in X-CSRF-Token on every state-changing request) and
// when the session ends. The session itself travels in its HttpOnly cookie (sessions.ts).
import type { IncomingMessage } from 'node:http';
import type { Deps } from '../deps.ts';
import type { UserRow } from '../users/users.repository.ts';
import { secureCookie, type NewSession } from './sessions.ts';

/** Readable by the dashboard's scripts (not HttpOnly): set when a sign-in ends in a redirect. */
export const CSRF_COOKIE = 'tollgate_csrf';

export function signedInBody(user: Pick<UserRow, 'id' | 'external_id' | 'email' | 'name' | 'role'>, session: Pick<NewSession, 'csrfToken' | 'expiresAt'>) {
  return { user: { id: user.id, external_id: user.external_id, email: user.email, name: user.name, role: user.role }, csrf_token: session.csrfToken, expires_at: session.expiresAt };
}

/**
 * The CSRF token in a cookie for a browser that arrived by redirect (it cannot read a JSON body).
 * Not a credential on its own: a state change is accepted only with the session cookie AND the
 * token in the X-CSRF-Token header; another site can neither read this site's cookies nor add that
 * header to a request the browser sends here.
 */
export function csrfCookie(deps: Deps, req: IncomingMessage, csrfToken: string, expiresAt: string): string {
  const maxAge = Math.max(0, Math.floor((Date.parse(expiresAt) - deps.clock.now()) / 1000));
  return `${CSRF_COOKIE}=${csrfToken}; Path=/; SameSite=Lax; Max-Age=${maxAge}${secureCookie(deps, req) ? '; Secure' : ''}`;
}
