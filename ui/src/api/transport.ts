// How the generated client (generated.ts) talks to /api: same-origin fetch with the session
// cookie, the CSRF token (from the readable tollgate_csrf cookie set at sign-in) on every
// state-changing request, JSON in and out. A failure is an ApiFailure carrying the registry's
// code and the field it names (param), so forms can show it next to that field. A 401 means the
// session ended: listeners (the session store) send the person back to sign-in.

export interface CallOptions {
  signal?: AbortSignal;
  /** makes a create safe to retry (http/idempotency.ts) */
  idempotencyKey?: string;
}

interface Args {
  path?: object;
  query?: object;
  body?: unknown;
  options?: CallOptions;
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** the request field the error is about, when it names one */
    readonly param: string | null,
  ) {
    super(message);
  }
}

const SAFE = new Set(['GET', 'HEAD']);
const unauthorizedListeners = new Set<() => void>();

/** Called when any request answers 401 (the session expired or was revoked). */
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export function csrfToken(): string | undefined {
  const m = /(?:^|;\s*)tollgate_csrf=([^;]+)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]!) : undefined;
}

/** /api/teams/{id}/keys + { id: 3 } + query → /api/teams/3/keys?…; undefined and '' are left out. */
export function urlFor(template: string, path?: Args['path'], query?: object): string {
  const url = template.replace(/\{([A-Za-z0-9_]+)\}/g, (_, name: string) => encodeURIComponent(String((path as Record<string, unknown> | undefined)?.[name] ?? '')));
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined || v === null || v === '') continue;
    q.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  const s = q.toString();
  return s ? `${url}?${s}` : url;
}

export async function call<T>(method: string, template: string, args: Args): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (args.body !== undefined) headers['content-type'] = 'application/json';
  if (!SAFE.has(method)) {
    const token = csrfToken();
    if (token) headers['x-csrf-token'] = token;
  }
  if (args.options?.idempotencyKey) headers['idempotency-key'] = args.options.idempotencyKey;
  let res: Response;
  try {
    res = await fetch(urlFor(template, args.path, args.query), {
      method, headers, credentials: 'same-origin',
      body: args.body === undefined ? undefined : JSON.stringify(args.body),
      signal: args.options?.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiFailure(0, 'network_error', 'Tollgate could not be reached. Check your connection and try again.', null);
  }
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    const e = (data as { error?: { message?: string; code?: string; type?: string; param?: string | null } } | undefined)?.error;
    if (res.status === 401) for (const l of unauthorizedListeners) l();
    throw new ApiFailure(res.status, e?.code ?? e?.type ?? `http_${res.status}`, e?.message ?? `Request failed (${res.status}).`, e?.param ?? null);
  }
  return data as T;
}
