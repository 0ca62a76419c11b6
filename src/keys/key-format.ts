// Key secrets: `sk-tg-` + 32 random base62 characters + a 6-character base62 CRC32 of those 32.
// The checksum lets Tollgate reject a malformed or mistyped key before any lookup, and lets secret
// scanners recognize a leaked key. Only the SHA-256 hash of a secret is ever stored.
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

export const KEY_PREFIX = 'sk-tg-';
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
export const KEY_LENGTH = KEY_PREFIX.length + BODY_LENGTH + CHECKSUM_LENGTH;
const KEY_PATTERN = /^sk-tg-[0-9A-Za-z]{38}$/;

/** Uniform random base62 string (rejection sampling: no modulo bias). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += ALPHABET[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

function base62(n: number, width: number): string {
  let out = '';
  for (let i = 0; i < width; i++) {
    out = ALPHABET[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

export function checksum(body: string): string {
  return base62(crc32(body), CHECKSUM_LENGTH);
}

/** the master key, and organization admin keys issued before management keys */
export const ADMIN_KEY_PREFIX = 'sk-tga-';
/** management keys (auth/management-keys): /api only */
export const MANAGEMENT_KEY_PREFIX = 'sk-tgm-';

/** A well-formed key with another prefix of the same length (`sk-tga-`, `sk-tgm-`). */
export function isWellFormedWithPrefix(secret: string, prefix: string): boolean {
  return secret.startsWith(prefix) && isWellFormedKey(KEY_PREFIX + secret.slice(prefix.length));
}

export function generateKey(prefix = KEY_PREFIX): string {
  const body = randomBase62(BODY_LENGTH);
  return prefix + body + checksum(body);
}

/** True when the string has the key shape and its checksum matches: no lookup needed to reject. */
export function isWellFormedKey(secret: string): boolean {
  if (secret.length !== KEY_LENGTH || !KEY_PATTERN.test(secret)) return false;
  const body = secret.slice(KEY_PREFIX.length, KEY_PREFIX.length + BODY_LENGTH);
  return checksum(body) === secret.slice(KEY_PREFIX.length + BODY_LENGTH);
}

export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}

/** What is shown for a key after creation: enough to recognize it, never enough to use it. */
export function displayPrefix(secret: string): string {
  return secret.slice(0, secret.indexOf('-', 3) + 7) + '...';
}

/** Constant-time equality of two hex digests. */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
