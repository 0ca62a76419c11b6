// The HTTP side of `tollgate users|teams|keys|management-keys`: where the gateway is, the key the
// commands authenticate with, and one request with the API's own errors. Plain fetch.
//
// The key never comes from argv (every user on the machine can read a process's arguments, and
// shells keep them in their history): it is TOLLGATE_MANAGEMENT_KEY, or the first line of the
// file --key-file names.
import { readFileSync, statSync } from 'node:fs';

export const DEFAULT_URL = 'http://127.0.0.1:4000';
const TIMEOUT_MS = 30_000;

/** A failure the command reports on stderr and turns into its exit code (1: the API or the network, 2: usage). */
export class CliFailure extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

export const usage = (message: string) => new CliFailure(message, 2);

export interface Connection {
  url: string;
  key: string;
  /** printed on stderr before the command's output (a key file readable by others, …) */
  warnings: string[];
}

export function connection(env: NodeJS.ProcessEnv, opts: { url?: string | undefined; keyFile?: string | undefined }): Connection {
  const url = (opts.url ?? env.TOLLGATE_URL ?? DEFAULT_URL).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(url)) throw usage(`TOLLGATE_URL must start with http:// or https:// (got "${url}")`);
  const warnings: string[] = [];
  let key: string | undefined;
  if (opts.keyFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(opts.keyFile, 'utf8');
      // Like ssh with a private key: a secret readable by other users is worth a word.
      if (process.platform !== 'win32' && (statSync(opts.keyFile).mode & 0o077) !== 0) warnings.push(`warning: ${opts.keyFile} is readable by other users (chmod 600 it)`);
    } catch (err) {
      throw usage(`--key-file: cannot read ${opts.keyFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    key = text.split(/\r?\n/)[0]?.trim();
    if (!key) throw usage(`--key-file: ${opts.keyFile} is empty`);
  } else {
    key = env.TOLLGATE_MANAGEMENT_KEY?.trim() || undefined;
  }
  if (!key) throw usage('no credential: set TOLLGATE_MANAGEMENT_KEY or pass --key-file <path> (a management key, sk-tgm-…)');
  return { url, key, warnings };
}

export type Query = Record<string, string | number | boolean | undefined>;

/** One API call; the parsed JSON answer, or a CliFailure carrying the API's error message. */
export async function call(conn: Connection, method: string, path: string, opts: { query?: Query; body?: unknown } = {}): Promise<any> {
  const u = new URL(conn.url + path);
  for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
  const headers: Record<string, string> = { authorization: `Bearer ${conn.key}`, accept: 'application/json', 'user-agent': 'tollgate-cli' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(u, { method, headers, signal: AbortSignal.timeout(TIMEOUT_MS), ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new CliFailure(`cannot reach ${conn.url}: ${cause}`, 1);
  }
  const text = await res.text();
  let body: any;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const e = body?.error;
    const detail = e?.message ? `${e.message} (${e.code ?? e.type}, HTTP ${res.status})` : `HTTP ${res.status} ${res.statusText}`;
    throw new CliFailure(`${method} ${path}: ${detail}`, 1);
  }
  return body;
}
