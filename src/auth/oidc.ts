// The OpenID Connect client (authorization code flow + PKCE S256, state and nonce), on
// `openid-client`, a certified relying-party library: discovery, the token exchange and the ID
// token's validation (signature against the provider's JWKS, issuer, audience, expiry, nonce)
// are all its. This file adds what Tollgate decides: the discovery is made once per app and kept
// (a failed one is retried at the next sign-in), plain http is allowed only for a loopback issuer
// (a provider on this machine: tests, a local IdP), and failures become stable error codes.
import * as client from 'openid-client';
import { isLoopbackHost, type OidcConfig } from './people-config.ts';
import { ApiError } from '../http/errors.ts';
import { SignInRefused } from './oidc-identity.ts';

/** Seconds any one request to the provider may take (discovery, token, userinfo, JWKS). */
const PROVIDER_TIMEOUT_S = 10;

export interface AuthorizationStart {
  /** where the browser goes next: the provider's authorization endpoint with every parameter */
  url: string;
  /** the three secrets the callback checks; stored (the state hashed) in oidc_logins */
  state: string;
  codeVerifier: string;
  nonce: string;
}

export interface CallbackChecks {
  state: string;
  codeVerifier: string;
  nonce: string;
}

export class OidcClient {
  private readonly cfg: OidcConfig;
  private discovered: Promise<client.Configuration> | undefined;

  constructor(cfg: OidcConfig) {
    this.cfg = cfg;
  }

  /** A fresh state, PKCE verifier and nonce, and the provider URL carrying the state, nonce and S256 challenge. */
  async start(): Promise<AuthorizationStart> {
    const config = await this.configuration();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const codeVerifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.cfg.redirectUri,
      scope: this.cfg.scopes,
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, state, codeVerifier, nonce };
  }

  /**
   * The validated claims of the callback's answer: exchanges the code (with the PKCE verifier),
   * checks state, issuer and nonce, and — when the ID token lacks a claim Tollgate matches on
   * (providers often keep email and name for userinfo) — completes them from the userinfo endpoint,
   * whose subject openid-client checks against the ID token's.
   */
  async finish(rawQuery: string, checks: CallbackChecks): Promise<Record<string, unknown>> {
    const config = await this.configuration();
    const current = new URL(this.cfg.redirectUri);
    current.search = rawQuery;
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, current, { pkceCodeVerifier: checks.codeVerifier, expectedState: checks.state, expectedNonce: checks.nonce, idTokenExpected: true });
    } catch (err) {
      throw refusal(err);
    }
    const claims: Record<string, unknown> = { ...tokens.claims() };
    const wanted = [this.cfg.externalIdClaim, 'email', 'email_verified', 'name'];
    if (wanted.some((c) => claims[c] === undefined) && config.serverMetadata().userinfo_endpoint && tokens.access_token) {
      try {
        const info = await client.fetchUserInfo(config, tokens.access_token, String(claims.sub));
        for (const [k, v] of Object.entries(info)) if (claims[k] === undefined) claims[k] = v;
      } catch {
        // The ID token alone may be enough (its claims are checked next); if not, the sign-in is
        // refused there, naming the missing claim.
      }
    }
    return claims;
  }

  private configuration(): Promise<client.Configuration> {
    this.discovered ??= this.discover().catch((err: unknown) => {
      this.discovered = undefined;
      throw err;
    });
    return this.discovered;
  }

  private async discover(): Promise<client.Configuration> {
    const issuer = new URL(this.cfg.issuer);
    // Plain http only to this machine (people-config.ts refuses any other http issuer at start).
    const insecure = issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname);
    let config: client.Configuration;
    try {
      config = await client.discovery(issuer, this.cfg.clientId, undefined, undefined, { timeout: PROVIDER_TIMEOUT_S, execute: insecure ? [client.allowInsecureRequests] : [] });
    } catch {
      throw new ApiError('service_unavailable', 'The identity provider could not be reached (OpenID discovery failed); try again later.');
    }
    // Client authentication: none for a public client (PKCE alone), else HTTP Basic — OpenID's
    // default — unless the provider lists only client_secret_post.
    const methods = config.serverMetadata().token_endpoint_auth_methods_supported;
    const secret = this.cfg.clientSecret;
    const auth = secret === undefined ? client.None() : methods && !methods.includes('client_secret_basic') && methods.includes('client_secret_post') ? client.ClientSecretPost(secret) : client.ClientSecretBasic(secret);
    const configured = new client.Configuration(config.serverMetadata(), this.cfg.clientId, secret === undefined ? {} : { client_secret: secret }, auth);
    configured.timeout = PROVIDER_TIMEOUT_S;
    if (insecure) client.allowInsecureRequests(configured);
    return configured;
  }
}

/** openid-client's failures as Tollgate's: what the provider said, or what did not validate. */
function refusal(err: unknown): ApiError {
  if (err instanceof client.AuthorizationResponseError) {
    return new SignInRefused(`provider_error:${err.error}`.slice(0, 100), 'sso_failed', `The identity provider did not sign you in (${err.error}).`);
  }
  if (err instanceof client.ResponseBodyError) {
    return new SignInRefused('token_exchange', 'sso_failed', `The identity provider refused the authorization code (${err.error}); start the sign-in again.`);
  }
  if (err instanceof client.ClientError || err instanceof client.WWWAuthenticateChallengeError) {
    return new SignInRefused('id_token_invalid', 'sso_failed', 'The identity provider\'s answer did not validate (ID token, issuer or nonce); start the sign-in again.');
  }
  return new SignInRefused('provider_unreachable', 'service_unavailable', 'The identity provider could not be reached; try again later.');
}
