// Single sign-on through OpenID Connect (docs/people.md, "Single sign-on"). Both routes are public:
// the browser arrives without a credential.
//   GET /api/auth/oidc/login[?return_to=/ui/…][&invitation=<token>] → 302 to the provider
//   GET /api/auth/oidc/callback?code&state&iss                     → session cookie, then 302 to
//       return_to (a browser) or 200 {user, csrf_token, expires_at} (Accept: application/json)
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { ApiError } from '../http/errors.ts';
import { parse } from '../http/validate.ts';
import { clientIp } from '../net/client-ip.ts';
import { loginIpThrottle, tooMany } from './login-throttle.ts';
import { findInvitationByToken, invitedTeamExists } from '../people/invitations.repository.ts';
import { invalidInvitation, isPending } from '../people/invitation-accept.ts';
import { OidcClient } from './oidc.ts';
import { identityFromClaims, SignInRefused, type OidcIdentity } from './oidc-identity.ts';
import { saveOidcLogin, takeOidcLogin, type OidcLoginRow } from './oidc-logins.repository.ts';
import { completeOidcSignIn, recordOidcFailure, type Caller } from './oidc-sign-in.ts';
import { csrfCookie, signedInBody } from './sign-in-response.ts';
import { sessionCookie, userAgentOf } from './sessions.ts';

const DEFAULT_RETURN_TO = '/ui/';

/**
 * A path on this deployment: one leading slash and no second one or backslash right after it
 * (`//host` and `/\host` are other hosts to a browser), no backslash, whitespace or control
 * character anywhere. Anything absolute is refused: the sign-in is no open redirect.
 */
const returnTo = z.string().max(2000).regex(/^\/(?![/\\])[^\s\\]*$/, 'must be a path on this deployment, e.g. /ui/keys');
const loginQuery = z.strictObject({ return_to: returnTo.optional(), invitation: z.string().min(1).max(200).optional() });
// The provider adds parameters of its own (iss, session_state, …): only state is read here.
const callbackQuery = z.object({ state: z.string().min(1, 'is required').max(1000) });

export function registerOidcRoutes(api: FastifyInstance, deps: Deps): void {
  const cfg = deps.config.people.oidc;
  // Discovery is made at the first sign-in and kept for the life of this app (one per process).
  const oidc = cfg ? new OidcClient(cfg) : undefined;
  const open = { config: { public: true } };
  // Failed callbacks (unknown state, refused identity) per client address, like failed passwords.
  const perIp = loginIpThrottle(deps.config.people);

  api.get('/auth/oidc/login', { config: { ...open.config, doc: { summary: 'Start single sign-on (redirects to the identity provider)', tag: 'Sign-in', query: loginQuery } } }, async (req, reply) => {
    if (!oidc) throw notConfigured();
    const query = parse(loginQuery, req.query, 'query');
    let invitationId: number | null = null;
    if (query.invitation !== undefined) {
      const inv = await findInvitationByToken(deps.db.kysely, query.invitation);
      if (!inv || !isPending(inv, deps.clock.now()) || !(await invitedTeamExists(deps.db.kysely, inv))) throw invalidInvitation();
      invitationId = inv.id;
    }
    const start = await oidc.start();
    await saveOidcLogin(deps.db.kysely, { state: start.state, codeVerifier: start.codeVerifier, nonce: start.nonce, invitationId, returnTo: query.return_to ?? null }, deps.clock.now());
    return reply.code(302).header('cache-control', 'no-store').header('location', start.url).send();
  });

  api.get('/auth/oidc/callback', { config: { ...open.config, doc: { summary: "The identity provider's redirect back (signs in, redirects to return_to)", tag: 'Sign-in', query: callbackQuery } } }, async (req, reply) => {
    if (!oidc) throw notConfigured();
    const caller = callerOf(deps, req);
    const now = deps.clock.now();
    const blocked = perIp.blockedUntil(caller.ip, now);
    if (blocked !== 0) throw tooMany(reply, 'too_many_auth_failures', 'Too many failed sign-ins from this address; try again later.', blocked - now);
    const { state } = parse(callbackQuery, req.query, 'query');
    const login = await takeOidcLogin(deps.db.kysely, state, now);
    // Not audited: without a sign-in in progress this is anyone's request, not an attempt on an account.
    if (!login) {
      perIp.fail(caller.ip, now);
      throw new ApiError('invalid_request', 'query.state: unknown, already used or expired sign-in; start again from /api/auth/oidc/login.', 'query.state');
    }
    const rawQuery = req.raw.url?.slice(req.raw.url.indexOf('?')) ?? '';
    const signIn = async () => completeOidcSignIn(deps, login, await identityOf(deps, oidc, rawQuery, state, login, caller), caller);
    const { user, session } = await signIn().catch((err: unknown) => {
      if (err instanceof SignInRefused) perIp.fail(caller.ip, now);
      throw err;
    });
    reply.header('cache-control', 'no-store');
    const cookie = sessionCookie(deps, req.raw, session.token, session.expiresAt);
    if (wantsJson(req)) return reply.header('set-cookie', cookie).send(signedInBody(user, session));
    // A browser following the redirect cannot read a JSON body: the CSRF token it needs for its
    // state-changing requests comes in a cookie its scripts can read (SameSite=Lax, not HttpOnly).
    return reply.code(302).header('set-cookie', [cookie, csrfCookie(deps, req.raw, session.csrfToken, session.expiresAt)]).header('location', login.return_to ?? DEFAULT_RETURN_TO).send();
  });
}

/** The provider's answer validated and read as an identity; a refusal is audited before it is thrown. */
async function identityOf(deps: Deps, oidc: OidcClient, rawQuery: string, state: string, login: OidcLoginRow, caller: Caller): Promise<OidcIdentity> {
  try {
    const claims = await oidc.finish(rawQuery, { state, codeVerifier: login.code_verifier, nonce: login.nonce });
    const identity = identityFromClaims(claims, deps.config.people.oidc!.externalIdClaim);
    if (typeof identity === 'string') throw new SignInRefused('claims', 'sso_failed', `The identity provider signed you in, but ${identity}.`);
    return identity;
  } catch (err) {
    if (err instanceof SignInRefused) await recordOidcFailure(deps, deps.defaultOrgId, caller, err);
    throw err;
  }
}

function notConfigured(): ApiError {
  return new ApiError('not_found', 'Single sign-on is not configured on this deployment (TOLLGATE_OIDC_ISSUER).');
}

function callerOf(deps: Deps, req: FastifyRequest): Caller {
  return { ip: clientIp(req.raw, deps.config.trustProxy), userAgent: userAgentOf(req.raw) };
}

function wantsJson(req: FastifyRequest): boolean {
  return String(req.headers.accept ?? '').includes('application/json');
}
