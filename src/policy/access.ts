// Access checks that need no counters, in the order the hot path asks them. Each returns a typed
// outcome and never throws; each costs a comparison, a bit test or a Map lookup on a warm key
// (everything was compiled into the KeyContext on its cache miss).
//   checkAccess  status, expiry, an older secret past its grace period      (from the headers)
//   checkCaller  endpoint scope, IP allowlists of org, team and key          (from the headers)
//   checkModel   the effective model set (org ∩ team ∩ key − blocklists)     (after the body)
import type { KeyContext } from '../keys/key-context.ts';

type Refused<C extends string> = { ok: false; code: C; message: string; param?: string };
export type AccessOutcome = { ok: true } | Refused<'key_revoked' | 'key_disabled' | 'key_expired' | 'invalid_api_key'>;
export type CallerOutcome = { ok: true } | Refused<'scope_not_allowed' | 'ip_not_allowed'>;
export type ModelOutcome = { ok: true } | Refused<'model_not_allowed'>;

const OK = { ok: true } as const;

export function checkAccess(ctx: KeyContext, now: number): AccessOutcome {
  if (ctx.status === 'revoked') return { ok: false, code: 'key_revoked', message: 'This API key has been revoked.' };
  if (ctx.status === 'disabled') return { ok: false, code: 'key_disabled', message: 'This API key is disabled.' };
  if (ctx.expiresAtMs !== null && ctx.expiresAtMs <= now) return { ok: false, code: 'key_expired', message: 'This API key has expired.' };
  // An older secret after its grace period is simply no longer a credential.
  if (ctx.secretUntilMs !== null && ctx.secretUntilMs <= now) return { ok: false, code: 'invalid_api_key', message: 'Incorrect API key provided.' };
  return OK;
}

/** `scope`: the bit of the endpoint's scope (policy/scopes.ts), 0 for none needed; `ip`: the client address as resolved (net/client-ip.ts). */
export function checkCaller(ctx: KeyContext, scope: number, scopeName: string, ip: string): CallerOutcome {
  if (scope !== 0 && (ctx.scopes & scope) === 0) return { ok: false, code: 'scope_not_allowed', message: `This API key's scopes do not include "${scopeName}".` };
  if (!ctx.ip.open) {
    const level = ctx.ip.refusedBy(ip);
    if (level !== null) return { ok: false, code: 'ip_not_allowed', message: `Requests from ${ip || 'this address'} are not allowed by the ${level}'s IP allowlist.` };
  }
  return OK;
}

export function checkModel(ctx: KeyContext, model: string): ModelOutcome {
  const refusal = ctx.models.refusal(model);
  if (refusal === null) return OK;
  const why = refusal.reason === 'blocked' ? `is blocked by the ${refusal.level}` : `is not in the ${refusal.level}'s allowed models`;
  return { ok: false, code: 'model_not_allowed', message: `This API key may not use the model \`${model}\`: it ${why}.`, param: 'model' };
}
