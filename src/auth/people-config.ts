// Configuration of sign-in for people: sessions, login throttling, the first admin, invitations and
// OpenID Connect. Read by config.ts with the same rules (environment wins over the file; a bad
// value fails start-up naming the variable).
import { bool, ConfigError, int, str, type Env } from '../config.ts';

export interface OidcConfig {
  /** the issuer URL; its /.well-known/openid-configuration is discovered at first use */
  issuer: string;
  clientId: string;
  clientSecret: string | undefined;
  /** where the provider sends the browser back: <public URL>/api/auth/oidc/callback */
  redirectUri: string;
  /** the ID token claim matched against users.external_id (then email is tried) */
  externalIdClaim: string;
  /** create unknown users at their first sign-in, with defaultRole */
  jit: boolean;
  defaultRole: 'member' | 'viewer';
  scopes: string;
}

export interface PeopleConfig {
  /** a session ends this long after sign-in, whatever its use (hours) */
  sessionTtlHours: number;
  /** … or after this long unused (minutes) */
  sessionIdleMinutes: number;
  /** the Secure cookie attribute: 'auto' sets it when the request came over HTTPS */
  cookieSecure: 'auto' | boolean;
  /** failed password sign-ins of one account before it is locked for loginLockMinutes */
  loginMaxFailures: number;
  loginLockMinutes: number;
  /** failed sign-ins from one address per minute before it is refused (per replica) */
  loginFailuresPerIpPerMinute: number;
  /** the first admin who can sign in, created at first start */
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  /** an invitation link stays valid this long (hours) */
  invitationTtlHours: number;
  /** the public URL of this deployment, for invitation links (e.g. https://llm.example.com) */
  publicUrl: string | undefined;
  oidc: OidcConfig | undefined;
}

export function peopleConfig(env: Env, file: Record<string, unknown>): PeopleConfig {
  const secure = str(env, file, 'TOLLGATE_COOKIE_SECURE', 'cookieSecure') ?? 'auto';
  if (!['auto', 'true', 'false'].includes(secure)) throw new ConfigError('TOLLGATE_COOKIE_SECURE must be auto, true or false');
  const adminEmail = str(env, file, 'TOLLGATE_ADMIN_EMAIL', 'adminEmail');
  const adminPassword = str(env, file, 'TOLLGATE_ADMIN_PASSWORD', 'adminPassword');
  if ((adminEmail === undefined) !== (adminPassword === undefined)) throw new ConfigError('TOLLGATE_ADMIN_EMAIL and TOLLGATE_ADMIN_PASSWORD go together: set both or neither');
  if (adminPassword !== undefined && adminPassword.length < 12) throw new ConfigError('TOLLGATE_ADMIN_PASSWORD must be at least 12 characters');
  const publicUrl = str(env, file, 'TOLLGATE_PUBLIC_URL', 'publicUrl');
  if (publicUrl !== undefined && !/^https?:\/\//.test(publicUrl)) throw new ConfigError('TOLLGATE_PUBLIC_URL must start with http:// or https://');
  return {
    sessionTtlHours: int(env, file, 'TOLLGATE_SESSION_TTL_HOURS', 'sessionTtlHours', 12, 1),
    sessionIdleMinutes: int(env, file, 'TOLLGATE_SESSION_IDLE_MINUTES', 'sessionIdleMinutes', 60, 1),
    cookieSecure: secure === 'auto' ? 'auto' : secure === 'true',
    loginMaxFailures: int(env, file, 'TOLLGATE_LOGIN_MAX_FAILURES', 'loginMaxFailures', 5, 1),
    loginLockMinutes: int(env, file, 'TOLLGATE_LOGIN_LOCK_MINUTES', 'loginLockMinutes', 15, 1),
    loginFailuresPerIpPerMinute: int(env, file, 'TOLLGATE_LOGIN_FAILURES_PER_IP_PER_MINUTE', 'loginFailuresPerIpPerMinute', 20, 1),
    adminEmail,
    adminPassword,
    invitationTtlHours: int(env, file, 'TOLLGATE_INVITATION_TTL_HOURS', 'invitationTtlHours', 72, 1),
    publicUrl: publicUrl?.replace(/\/+$/, ''),
    oidc: oidcConfig(env, file),
  };
}

function oidcConfig(env: Env, file: Record<string, unknown>): OidcConfig | undefined {
  const issuer = str(env, file, 'TOLLGATE_OIDC_ISSUER', 'oidcIssuer');
  if (issuer === undefined) return undefined;
  if (!/^https?:\/\//.test(issuer)) throw new ConfigError('TOLLGATE_OIDC_ISSUER must be an http(s) URL');
  // openid-client refuses plain http; Tollgate allows it only for a provider on this machine.
  if (issuer.startsWith('http://') && !(URL.canParse(issuer) && isLoopbackHost(new URL(issuer).hostname))) throw new ConfigError('TOLLGATE_OIDC_ISSUER must be an https URL (plain http only for a loopback issuer: 127.0.0.1, localhost, [::1])');
  const clientId = str(env, file, 'TOLLGATE_OIDC_CLIENT_ID', 'oidcClientId');
  if (!clientId) throw new ConfigError('TOLLGATE_OIDC_CLIENT_ID is required with TOLLGATE_OIDC_ISSUER');
  const redirectUri = str(env, file, 'TOLLGATE_OIDC_REDIRECT_URI', 'oidcRedirectUri');
  if (!redirectUri || !/^https?:\/\//.test(redirectUri)) throw new ConfigError('TOLLGATE_OIDC_REDIRECT_URI is required with TOLLGATE_OIDC_ISSUER (https://<host>/api/auth/oidc/callback)');
  const defaultRole = str(env, file, 'TOLLGATE_OIDC_DEFAULT_ROLE', 'oidcDefaultRole') ?? 'member';
  if (defaultRole !== 'member' && defaultRole !== 'viewer') throw new ConfigError('TOLLGATE_OIDC_DEFAULT_ROLE must be member or viewer');
  return {
    issuer,
    clientId,
    clientSecret: str(env, file, 'TOLLGATE_OIDC_CLIENT_SECRET', 'oidcClientSecret'),
    redirectUri,
    externalIdClaim: str(env, file, 'TOLLGATE_OIDC_EXTERNAL_ID_CLAIM', 'oidcExternalIdClaim') ?? 'sub',
    jit: bool(env, file, 'TOLLGATE_OIDC_JIT', 'oidcJit', false),
    defaultRole,
    scopes: str(env, file, 'TOLLGATE_OIDC_SCOPES', 'oidcScopes') ?? 'openid email profile',
  };
}

/** 127.0.0.1, localhost or ::1 (as URL#hostname writes it): the only hosts an http OIDC issuer may have. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}
