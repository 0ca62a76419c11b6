// Access checks that need no counters: status and expiry. (IP allowlists and model access join
// here as they are built; each returns a typed outcome, never throws.)
import type { KeyContext } from '../keys/key-context.ts';

export type AccessOutcome = { ok: true } | { ok: false; code: 'key_revoked' | 'key_disabled' | 'key_expired'; message: string };

export function checkAccess(ctx: KeyContext, now: number): AccessOutcome {
  if (ctx.status === 'revoked') return { ok: false, code: 'key_revoked', message: 'This API key has been revoked.' };
  if (ctx.status === 'disabled') return { ok: false, code: 'key_disabled', message: 'This API key is disabled.' };
  if (ctx.expiresAtMs !== null && ctx.expiresAtMs <= now) return { ok: false, code: 'key_expired', message: 'This API key has expired.' };
  return { ok: true };
}
