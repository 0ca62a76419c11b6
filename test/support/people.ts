// People signing in through the real route (POST /api/auth/login), for tests of sign-in and of
// what a signed-in person sees. (test/support/sessions.ts makes sessions without the route.)
import { hashPassword } from '../../src/auth/passwords.ts';
import { SESSION_COOKIE } from '../../src/auth/sessions.ts';
import { ADMIN_KEY, type Gateway } from './gateway.ts';

export type Reply = { status: number; body: any; headers: Headers };

async function call(url: string, method: string, headers: Record<string, string>, body?: unknown): Promise<Reply> {
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/**
 * POST /api/auth/login. `ip` is sent as X-Forwarded-For: it is the client address only for a
 * gateway started with TOLLGATE_TRUST_PROXY=true (tests give each scenario its own address, so
 * the per-address throttle of one does not refuse another).
 */
export function login(gw: Gateway, body: Record<string, unknown>, ip?: string): Promise<Reply> {
  return call(gw.url + '/api/auth/login', 'POST', ip ? { 'x-forwarded-for': ip } : {}, body);
}

/** The session cookie (`name=value`) a sign-in answer set, or undefined. */
export function sessionCookieOf(res: Reply): string | undefined {
  const header = res.headers.get('set-cookie');
  const m = header?.match(new RegExp(`${SESSION_COOKIE}=([^;]*)`));
  return m?.[1] ? `${SESSION_COOKIE}=${m[1]}` : undefined;
}

export interface Browser {
  cookie: string;
  csrf: string;
  /** like gw.api, with the cookie; the CSRF token on state changes unless `csrf: false` */
  api(method: string, path: string, body?: unknown, opts?: { csrf?: boolean }): Promise<Reply>;
}

/** Signs in (asserting it worked) and returns a client holding the session, as a browser would. */
export async function signIn(gw: Gateway, email: string, password: string, opts: { ip?: string; org?: string } = {}): Promise<Browser & { res: Reply }> {
  const res = await login(gw, { email, password, ...(opts.org ? { org: opts.org } : {}) }, opts.ip);
  const cookie = sessionCookieOf(res);
  if (res.status !== 200 || !cookie) throw new Error(`sign-in of ${email}: ${res.status} ${JSON.stringify(res.body)}`);
  return { res, ...browser(gw, cookie, res.body.csrf_token) };
}

export function browser(gw: Gateway, cookie: string, csrf: string): Browser {
  return {
    cookie,
    csrf,
    api(method, p, body, opts) {
      const headers: Record<string, string> = { cookie };
      if (method !== 'GET' && method !== 'HEAD' && opts?.csrf !== false) headers['x-csrf-token'] = csrf;
      return call(gw.url + p, method, headers, body);
    },
  };
}

/**
 * A user created through the API (with `adminKey`, the master key by default), whose password is
 * then set in the database: setting one through the API is the invitations' part.
 */
export async function userWithPassword(gw: Gateway, email: string, password: string, opts: { role?: 'admin' | 'member' | 'viewer'; adminKey?: string; teams?: Record<number, 'owner' | 'member'> } = {}): Promise<number> {
  const created = await gw.api('POST', '/api/users', { external_id: email, email, name: email.split('@')[0], role: opts.role ?? 'member' }, opts.adminKey ?? ADMIN_KEY);
  if (created.status !== 201) throw new Error(`creating ${email}: ${created.status} ${JSON.stringify(created.body)}`);
  for (const [teamId, role] of Object.entries(opts.teams ?? {})) {
    const m = await gw.api('PUT', `/api/teams/${teamId}/members/${created.body.id}`, { role }, opts.adminKey ?? ADMIN_KEY);
    if (m.status !== 200) throw new Error(`adding ${email} to team ${teamId}: ${m.status} ${JSON.stringify(m.body)}`);
  }
  await gw.runtime.deps.db.kysely.updateTable('users').set({ password_hash: await hashPassword(password) }).where('id', '=', created.body.id).execute();
  return created.body.id;
}
