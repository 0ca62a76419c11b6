// A REAL OpenID Connect provider for the SSO tests: the `oidc-provider` package (a certified OP
// implementation) on a loopback port, with one static confidential client, a few accounts, and its
// development login/consent pages, which `signIn` drives like a browser (fetch + a cookie jar,
// redirects followed by hand). Nothing about the protocol is faked: discovery, JWKS, the
// authorization code, PKCE, the token endpoint, signed ID tokens and userinfo are the provider's.
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
// @ts-expect-error oidc-provider ships no type declarations; the few calls below are typed locally.
import Provider from 'oidc-provider';

export interface OidcAccount {
  /** the login typed on the provider's sign-in page, and the `sub` claim */
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  /** any other claim (e.g. an employee id used as TOLLGATE_OIDC_EXTERNAL_ID_CLAIM) */
  [claim: string]: unknown;
}

export interface TestOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** the provider's token endpoint (a test exchanges a code itself to show PKCE is enforced) */
  tokenEndpoint: string;
  /**
   * Plays the browser from Tollgate's redirect to the provider until the provider redirects back:
   * signs in as `login`, grants consent, and returns the callback URL (with code, state and iss).
   */
  signIn(authorizationUrl: string, login: string): Promise<string>;
  close(): Promise<void>;
}

interface ProviderLike {
  callback(): (req: unknown, res: unknown) => void;
}

/** A loopback port free right now, for a gateway whose redirect URI must be configured before it listens. */
export async function freePort(): Promise<number> {
  const probe = createTcpServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export async function startOidcProvider(opts: { redirectUris: string[]; accounts: OidcAccount[]; clientId?: string; clientSecret?: string }): Promise<TestOidcProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = opts.clientId ?? 'tollgate';
  const clientSecret = opts.clientSecret ?? 'test-oidc-client-secret-0123456789';
  const accounts = new Map(opts.accounts.map((a) => [a.sub, a]));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const provider: ProviderLike = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: opts.redirectUris, grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' }],
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' }] },
    cookies: { keys: ['test-oidc-provider-cookie-key'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'employee_id'] },
    // The provider refuses an authorization request without a PKCE challenge (its default only
    // requires PKCE from public clients).
    pkce: { required: () => true },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
    features: { devInteractions: { enabled: true } },
    findAccount: (_ctx: unknown, id: string) => {
      const account = accounts.get(id);
      if (!account) return undefined;
      return { accountId: id, claims: () => ({ ...account }) };
    },
  });
  server.on('request', provider.callback());

  return {
    issuer,
    clientId,
    clientSecret,
    tokenEndpoint: `${issuer}/token`,
    signIn: (url, login) => driveBrowser(url, login, opts.redirectUris),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Follows the provider's redirects and answers its login and consent pages, at most 12 steps. */
async function driveBrowser(start: string, login: string, redirectUris: string[]): Promise<string> {
  const jar = new Map<string, string>();
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const remember = (res: Response) => {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
  };
  let url = start;
  let form: { action: string; body: string } | undefined;
  for (let step = 0; step < 12; step++) {
    const res = form
      ? await fetch(url, { method: 'POST', redirect: 'manual', headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' }, body: form.body })
      : await fetch(url, { redirect: 'manual', headers: { cookie: cookie() } });
    form = undefined;
    remember(res);
    const location = res.headers.get('location');
    if (location) {
      await res.body?.cancel();
      url = new URL(location, url).href;
      if (redirectUris.some((r) => url.startsWith(r + '?'))) return url;
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new Error(`OIDC provider answered ${res.status} at ${url}: ${html.slice(0, 300)}`);
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
    if (!action || !prompt) throw new Error(`unexpected OIDC provider page at ${url}: ${html.slice(0, 300)}`);
    url = new URL(action.replace(/&amp;/g, '&'), url).href;
    const fields: Record<string, string> = prompt === 'login' ? { prompt, login, password: 'any' } : { prompt };
    form = { action: url, body: new URLSearchParams(fields).toString() };
  }
  throw new Error('the OIDC provider did not redirect back within 12 steps');
}
