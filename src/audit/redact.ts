// What an audit event's before/after may hold: everything but secrets. Two nets, because one
// would miss things: a field whose NAME says secret (key, password, client_secret, csrf_token…)
// has its text replaced, and any text whose VALUE looks like a credential (a Tollgate key, a
// provider key, a session token, a bearer token, a JWT, a private key, an argon2 hash) has that
// part replaced wherever it appears — a secret pasted into a description included.
//
// Only text is replaced under a secret-looking name: numbers and booleans are never secrets
// (`max_tokens: 100`, `token_limit: 5` survive), and objects are walked into, so
// `previous_secret: {id, key_prefix, valid_until}` keeps what identifies the older secret.

export const REDACTED = '[redacted]';

/** Names that are secrets by themselves (compared lower-cased, '-' read as '_'). */
const SECRET_NAMES = new Set([
  'key', 'api_key', 'apikey', 'secret', 'secret_enc', 'client_secret', 'key_hash', 'hash',
  'token', 'token_hash', 'access_token', 'refresh_token', 'id_token', 'session', 'session_token',
  'csrf', 'csrf_token', 'csrf_hash', 'password', 'password_hash', 'code_verifier', 'nonce',
  'authorization', 'cookie', 'set_cookie', 'private_key', 'credential', 'credentials',
]);

/** A name made of one of these words (`new_password`, `webhook_secret`, `previous_token`…). */
const SECRET_WORD = /(^|_)(password|passwd|passphrase|secret|token|verifier|authorization|cookie|credentials?|private_key|api_?key|csrf)(_|$)/;
/** `key_hash`, `admin_key`, `management_key`… */
const SECRET_SUFFIX = /_(hash|key)$/;
/** Names that only ever point at or describe a secret: `key_prefix`, `api_key_hint`, `secret_id`. */
const DESCRIBES_SECRET = /_(hint|prefix|id|ids|at|count|type|kind|status|name)$/;

/** Credential-shaped text, wherever it appears. */
const SECRET_VALUES: RegExp[] = [
  /\bsk-[A-Za-z0-9][A-Za-z0-9_-]{19,}/g, // Tollgate keys (sk-tg-, sk-tgm-, sk-tga-), OpenAI, Anthropic
  /\btg[a-z]_[A-Za-z0-9_-]{32,}/g, // Tollgate session, CSRF and invitation tokens
  /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, // a JWT (OIDC id_token, access token)
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g,
  /\$argon2(id|i|d)\$[^\s"]+/g,
  /\b(AKIA|ASIA)[0-9A-Z]{16}\b/g, // AWS access key ids
  /\bAIza[0-9A-Za-z_-]{35}\b/g, // Google API keys
  /\bgh[pousr]_[A-Za-z0-9]{36,}\b/g, // GitHub tokens
];

function secretName(name: string): boolean {
  const n = name.toLowerCase().replaceAll('-', '_');
  if (SECRET_NAMES.has(n)) return true;
  return !DESCRIBES_SECRET.test(n) && (SECRET_WORD.test(n) || SECRET_SUFFIX.test(n));
}

/** `text` with every credential-shaped part replaced. */
export function redactText(text: string): string {
  let out = text;
  for (const pattern of SECRET_VALUES) out = out.replace(pattern, REDACTED);
  return out;
}

/** A copy of `value` with nothing secret-looking left (see the top of this file). */
export function redact(value: unknown, underSecretName = false): unknown {
  if (typeof value === 'string') return underSecretName ? REDACTED : redactText(value);
  if (Array.isArray(value)) return value.map((v) => redact(v, underSecretName));
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redact(v, secretName(k));
    return out;
  }
  return value;
}
