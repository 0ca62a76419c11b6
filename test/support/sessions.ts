// Sessions for tests of /api as a person: a user (created through the API with the master key),
// signed in by a session made directly with createSession (the sign-in route has its own tests),
// and an `api` that sends the session cookie and, on state changes, the CSRF token.
import type { Gateway } from './gateway.ts';
import { createSession, SESSION_COOKIE } from '../../src/auth/sessions.ts';

export interface TestSession {
  userId: number;
  cookie: string;
  csrf: string;
  /** like gw.api, as this person; `csrf: false` leaves the CSRF header out */
  api(method: string, path: string, body?: unknown, opts?: { csrf?: boolean }): Promise<{ status: number; body: any; headers: Headers }>;
}

/** A session for an existing user id. */
export async function sessionFor(gw: Gateway, userId: number): Promise<TestSession> {
  const deps = gw.runtime.deps;
  const user = await deps.db.kysely.selectFrom('users').select(['id', 'org_id']).where('id', '=', userId).executeTakeFirstOrThrow();
  const s = await createSession(deps.db.kysely, deps, user, { method: 'password', ip: '127.0.0.1', userAgent: 'test' }, deps.clock.now());
  const cookie = `${SESSION_COOKIE}=${s.token}`;
  return {
    userId,
    cookie,
    csrf: s.csrfToken,
    async api(method, p, body, opts) {
      const headers: Record<string, string> = { cookie };
      if (method !== 'GET' && method !== 'HEAD' && opts?.csrf !== false) headers['x-csrf-token'] = s.csrfToken;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(gw.url + p, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
    },
  };
}

/**
 * A new user of the default organization with `role`, member of `teams` ({teamId: 'owner'|'member'}),
 * signed in.
 */
export async function signedInUser(gw: Gateway, externalId: string, role: 'admin' | 'member' | 'viewer' = 'member', teams: Record<number, 'owner' | 'member'> = {}): Promise<TestSession> {
  const created = await gw.api('POST', '/api/users', { external_id: externalId, email: `${externalId}@example.com`, name: externalId, role });
  if (created.status !== 201) throw new Error(`creating user ${externalId}: ${created.status} ${JSON.stringify(created.body)}`);
  for (const [teamId, teamRole] of Object.entries(teams)) {
    const m = await gw.api('PUT', `/api/teams/${teamId}/members/${created.body.id}`, { role: teamRole });
    if (m.status !== 200) throw new Error(`adding ${externalId} to team ${teamId}: ${m.status} ${JSON.stringify(m.body)}`);
  }
  return sessionFor(gw, created.body.id);
}
