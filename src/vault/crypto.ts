// Provider credentials at rest: AES-256-GCM under a versioned master key.
// Stored form: `v<version>:<iv b64>:<tag b64>:<ciphertext b64>`. The version names the master key
// that sealed it, so the master key can be rotated by re-encrypting (see docs/production.md).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export class Vault {
  private readonly keys: Map<number, Buffer>;
  private readonly current: number;

  /** keys: version → 32-byte key; the highest version seals new secrets. */
  constructor(keys: Map<number, Buffer>) {
    if (keys.size === 0) throw new Error('vault needs at least one key');
    for (const [v, k] of keys) if (k.length !== 32) throw new Error(`encryption key v${v} must be 32 bytes`);
    this.keys = keys;
    this.current = Math.max(...keys.keys());
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.current)!, iv);
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `v${this.current}:${iv.toString('base64')}:${cipher.getAuthTag().toString('base64')}:${ct.toString('base64')}`;
  }

  open(sealed: string): string {
    const [version, iv, tag, ct] = sealed.split(':');
    const key = this.keys.get(Number(version?.slice(1)));
    if (!key || !iv || !tag || ct === undefined) throw new Error('sealed secret is malformed or its key version is unknown');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64')), decipher.final()]).toString('utf8');
  }

  versionOf(sealed: string): number {
    return Number(sealed.slice(1, sealed.indexOf(':')));
  }

  get currentVersion(): number {
    return this.current;
  }
}

function parseKey(text: string, what: string): Buffer {
  const t = text.trim();
  const buf = /^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (buf.length !== 32) throw new Error(`${what} must be 32 bytes, as 64 hex characters or base64`);
  return buf;
}

/**
 * TOLLGATE_ENCRYPTION_KEY holds one key, or several as `1:<key>,2:<key>` for rotation.
 * When unset, a key is generated into the data directory on first start (mode 0600).
 */
export function loadVault(encryptionKey: string | undefined, dataDir: string): { vault: Vault; generated: boolean } {
  if (encryptionKey) {
    const keys = new Map<number, Buffer>();
    for (const part of encryptionKey.split(',')) {
      const m = /^(\d+):(.+)$/.exec(part.trim());
      if (m) keys.set(Number(m[1]), parseKey(m[2]!, `TOLLGATE_ENCRYPTION_KEY version ${m[1]}`));
      else keys.set(1, parseKey(part, 'TOLLGATE_ENCRYPTION_KEY'));
    }
    return { vault: new Vault(keys), generated: false };
  }
  const file = path.join(dataDir, 'encryption.key');
  if (existsSync(file)) return { vault: new Vault(new Map([[1, parseKey(readFileSync(file, 'utf8'), file)]])), generated: false };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('hex') + '\n', { mode: 0o600 });
  return { vault: new Vault(new Map([[1, key]])), generated: true };
}
