// Password hashing: argon2id (@node-rs/argon2, a maintained native binding shipped inside its npm
// package) with OWASP's recommended minimum cost (19 MiB, 2 passes, 1 lane). Hashes are PHC
// strings, so parameters can be raised later and old hashes still verify.
import { hash, verify } from '@node-rs/argon2';

const OPTIONS = { algorithm: 2 /* Argon2id */, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 1024;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/**
 * Verifying against this when the account does not exist (or has no password) makes an unknown
 * email cost the same time as a wrong password, so timing does not reveal who has an account.
 */
let decoy: Promise<string> | undefined;
export async function burnVerify(password: string): Promise<void> {
  decoy ??= hashPassword('tollgate-decoy-password');
  await verifyPassword(await decoy, password);
}

/** Why a new password is refused (null: acceptable). Length is what matters (NIST SP 800-63B). */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > MAX_PASSWORD_LENGTH) return `must be at most ${MAX_PASSWORD_LENGTH} characters`;
  return null;
}
