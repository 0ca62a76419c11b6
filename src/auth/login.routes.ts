// POST /api/auth/login (public) and POST /api/auth/logout: password sign-in for people, with a
// server-side session in an HTTP-only cookie (auth/sessions.ts). docs/people.md#signing-in.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { ApiError } from '../http/errors.ts';
import { parse } from '../http/validate.ts';
import { clientIp } from '../net/client-ip.ts';
import { authorize } from './authorize.ts';
import { applyChange } from '../audit/change.ts';
import { MAX_PASSWORD_LENGTH } from './passwords.ts';
import { loginIpThrottle, tooMany } from './login-throttle.ts';
import { signIn } from './login.ts';
import { clearedSessionCookie, revokeSession, sessionCookie, userAgentOf } from './sessions.ts';
import { csrfCookie, signedInBody } from './sign-in-response.ts';
import { iso } from '../clock.ts';

const loginBody = z.strictObject({
  email: z.email('must be an email address').max(320),
  // Not trimmed: spaces are part of a password. Its length rules apply when one is set, not here.
  password: z.string().min(1, 'must not be empty').max(MAX_PASSWORD_LENGTH, `must be at most ${MAX_PASSWORD_LENGTH} characters`),
  org: z.string().trim().min(1, 'must not be empty').max(100).optional(),
});

const methodsDoc = z.object({ password: z.boolean(), sso: z.boolean(), sso_login_url: z.string().nullable() });

/** Same words for an unknown email, a wrong password, a deactivated account: they must not differ. */
const INVALID_LOGIN = 'Wrong email or password.';

export function registerLoginRoutes(api: FastifyInstance, deps: Deps): void {
  // Per app, like everything else (two apps in one process share nothing).
  const perIp = loginIpThrottle(deps.config.people);

  // How people can sign in here: the dashboard's sign-in page shows the SSO button only when set up.
  api.get('/auth/methods', { config: { public: true, doc: { summary: 'How people sign in to this deployment (password; single sign-on when configured)', tag: 'Sign-in', response: methodsDoc } } }, async () => ({
    password: true,
    sso: deps.config.people.oidc !== undefined,
    sso_login_url: deps.config.people.oidc ? '/api/auth/oidc/login' : null,
  }));

  api.post('/auth/login', { config: { public: true, doc: { summary: 'Sign in with email and password (sets the session cookie; returns the CSRF token)', tag: 'Sign-in', body: loginBody } } }, async (req, reply) => {
    const ip = clientIp(req.raw, deps.config.trustProxy);
    const now = deps.clock.now();
    const blocked = perIp.blockedUntil(ip, now);
    if (blocked !== 0) {
      throw tooMany(reply, 'too_many_auth_failures', 'Too many failed sign-ins from this address; try again later.', blocked - now);
    }
    const input = parse(loginBody, req.body);
    const outcome = await signIn(deps, input, { ip, userAgent: userAgentOf(req.raw) });
    if (outcome.ok) {
      const { account, session } = outcome;
      // The CSRF token also in its readable cookie: the dashboard finds it there after a reload.
      reply.header('set-cookie', [sessionCookie(deps, req.raw, session.token, session.expiresAt), csrfCookie(deps, req.raw, session.csrfToken, session.expiresAt)]);
      reply.header('cache-control', 'no-store');
      return signedInBody(account, session);
    }
    if (outcome.code === 'org_required') {
      throw new ApiError('invalid_request', `org: this email signs in to several organizations (${outcome.organizations.join(', ')}); send the slug of one`, 'org', { organizations: outcome.organizations });
    }
    perIp.fail(ip, deps.clock.now());
    if (outcome.code === 'account_locked') {
      throw tooMany(reply, 'account_locked', 'This account is locked after too many failed sign-ins; try again later.', outcome.retryAfterSeconds * 1000);
    }
    throw new ApiError('invalid_login', INVALID_LOGIN);
  });

  // Ends the session the request came with (a key has none). A POST with the session, so it needs
  // the CSRF token: another site cannot sign a person out.
  api.post('/auth/logout', { config: { action: 'me.read', doc: { summary: 'Sign out (ends the session)', tag: 'Sign-in' } } }, async (req, reply) => {
    authorize(req.actor, 'me.read');
    const sessionId = req.actor.sessionId;
    if (sessionId == null) throw new ApiError('invalid_request', 'There is no session to end: this request was made with a key, not a signed-in session.');
    await applyChange(deps, req.actor, async (trx, at) => {
      await revokeSession(trx, sessionId, at);
      return { result: null, audit: [{ orgId: req.actor.orgId, action: 'auth.logout', targetType: 'session', targetId: sessionId }] };
    });
    // The readable CSRF cookie an SSO sign-in set goes too.
    reply.header('set-cookie', [clearedSessionCookie(deps, req.raw), csrfCookie(deps, req.raw, '', iso(deps.clock.now()))]);
    return { signed_out: true };
  });
}

