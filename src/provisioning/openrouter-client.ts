// OpenRouter's key management API (https://openrouter.ai/api/v1/keys), called with an
// 'openrouter-provisioning' credential (a management key: it manages keys, it cannot call models):
//   POST   /keys          {name, limit, expires_at?}  → 201 {data: {hash, name, limit, usage, …}, key}
//   GET    /keys          ?offset, ?include_disabled  → {data: [{…}]} (100 a page)
//   GET    /keys/{hash}                               → {data: {…}}
//   PATCH  /keys/{hash}   {name?, disabled?, limit?}  → {data: {…}}
//   DELETE /keys/{hash}                               → {deleted: true}
// Errors are {error: {code, message}}. The key's secret is in the creation answer only; nothing
// here logs or keeps it. Calls go through the upstream pool of the credential, so the SSRF guard
// that protects /v1 (TOLLGATE_UPSTREAM_ALLOW) applies to a management base URL too.
import type { Dispatcher } from 'undici';
import { poolFor, type PoolOptions } from '../providers/http-pool.ts';

/** A management call answers within this, or fails (a revocation is then retried by the sweeper). */
const TIMEOUT_MS = 10_000;
/** A provider's error body is read this far, at most (it is only ever summarised). */
const MAX_ERROR_BYTES = 4096;

export interface ManagementCredential {
  credentialId: number;
  /** e.g. https://openrouter.ai/api/v1 (no trailing slash) */
  baseUrl: string;
  /** the decrypted provisioning key: lives only in memory */
  apiKey: string;
}

/** What Tollgate reads of an OpenRouter key (amounts in USD credits). */
export interface UpstreamKey {
  hash: string;
  name: string;
  disabled: boolean;
  limit: number | null;
  usage: number;
}

/** The provider refused or failed; `status` 0 when it could not be reached. The message never holds a secret. */
export class ProviderCallError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export interface CreateKeyInput {
  name: string;
  limitUsd: number;
  /** canonical UTC ISO-8601 (OpenRouter refuses other time zones) */
  expiresAt: string | null;
}

export class OpenRouterClient {
  private readonly cred: ManagementCredential;
  private readonly pool: PoolOptions;

  constructor(cred: ManagementCredential, pool: PoolOptions) {
    this.cred = cred;
    this.pool = pool;
  }

  /** Creates a key; the secret is returned to the caller once and never kept here. */
  async create(input: CreateKeyInput): Promise<{ key: UpstreamKey; secret: string }> {
    // No limit_reset: the limit is a hard cap for the key's whole life, as the allocation counts it.
    const body: Record<string, unknown> = { name: input.name, limit: input.limitUsd };
    if (input.expiresAt !== null) body.expires_at = input.expiresAt;
    const res = await this.call('POST', '/keys', body);
    const data = upstreamKey((res as { data?: unknown })?.data);
    const secret = (res as { key?: unknown })?.key;
    if (!data || typeof secret !== 'string' || secret === '') throw new ProviderCallError(502, 'the provider answered the key creation without a key');
    return { key: data, secret };
  }

  async get(hash: string): Promise<UpstreamKey> {
    const data = upstreamKey(((await this.call('GET', `/keys/${encodeURIComponent(hash)}`)) as { data?: unknown })?.data);
    if (!data) throw new ProviderCallError(502, 'the provider answered with an unexpected key shape');
    return data;
  }

  /** One page of the account's keys (100 at most), disabled ones included. */
  async list(offset: number): Promise<UpstreamKey[]> {
    const data = ((await this.call('GET', `/keys?include_disabled=true&offset=${offset}`)) as { data?: unknown })?.data;
    if (!Array.isArray(data)) throw new ProviderCallError(502, 'the provider answered the key listing with an unexpected shape');
    return data.map(upstreamKey).filter((k): k is UpstreamKey => k !== undefined);
  }

  async update(hash: string, patch: { name?: string; disabled?: boolean; limitUsd?: number }): Promise<void> {
    const body: Record<string, unknown> = {};
    if (patch.name !== undefined) body.name = patch.name;
    if (patch.disabled !== undefined) body.disabled = patch.disabled;
    if (patch.limitUsd !== undefined) body.limit = patch.limitUsd;
    await this.call('PATCH', `/keys/${encodeURIComponent(hash)}`, body);
  }

  /** Deletes a key; one the provider no longer knows (404) is deleted already: idempotent. */
  async delete(hash: string): Promise<void> {
    try {
      await this.call('DELETE', `/keys/${encodeURIComponent(hash)}`);
    } catch (err) {
      if (err instanceof ProviderCallError && err.status === 404) return;
      throw err;
    }
  }

  private async call(method: Dispatcher.HttpMethod, path: string, body?: unknown): Promise<unknown> {
    const url = new URL(this.cred.baseUrl + path);
    const headers: Record<string, string> = { authorization: `Bearer ${this.cred.apiKey}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Dispatcher.ResponseData;
    try {
      res = await poolFor(url.origin, this.cred.credentialId, this.pool).request({
        method,
        path: url.pathname + url.search,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        headersTimeout: TIMEOUT_MS,
        bodyTimeout: TIMEOUT_MS,
      });
    } catch (err) {
      // undici's messages name the address, never the request's headers.
      throw new ProviderCallError(0, `the provider could not be reached: ${(err as Error).message}`);
    }
    if (res.statusCode >= 200 && res.statusCode < 300) {
      const text = await res.body.text();
      try {
        return text === '' ? {} : JSON.parse(text);
      } catch {
        throw new ProviderCallError(502, 'the provider answered with a body that is not JSON');
      }
    }
    throw new ProviderCallError(res.statusCode, `the provider answered ${res.statusCode}: ${await errorMessage(res.body)}`);
  }
}

/** OpenRouter's {error: {code, message}}, cut short; the status alone when the body is not that. */
async function errorMessage(body: Dispatcher.ResponseData['body']): Promise<string> {
  let text = '';
  for await (const chunk of body) {
    text += (chunk as Buffer).toString('utf8');
    if (text.length > MAX_ERROR_BYTES) {
      body.destroy();
      break;
    }
  }
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } })?.error?.message;
    if (typeof message === 'string') return message.slice(0, 300);
  } catch {
    // not JSON: fall through
  }
  return 'no error message';
}

function upstreamKey(d: unknown): UpstreamKey | undefined {
  if (d === null || typeof d !== 'object') return undefined;
  const o = d as Record<string, unknown>;
  if (typeof o.hash !== 'string' || o.hash === '') return undefined;
  return {
    hash: o.hash,
    name: typeof o.name === 'string' ? o.name : '',
    disabled: o.disabled === true,
    limit: typeof o.limit === 'number' ? o.limit : null,
    usage: typeof o.usage === 'number' ? o.usage : 0,
  };
}
