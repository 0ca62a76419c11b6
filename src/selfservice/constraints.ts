// Seed 002's constraint table, one check per row, in the table's order. Each refusal has its own
// stable code (http/errors.ts) and names the field it is about; the first failing row answers.
//
//   | Constraint                                 | code                   | status | param            |
//   |--------------------------------------------|------------------------|--------|------------------|
//   | Self-service disabled on team (or member)  | self_service_disabled  | 403    | team_id          |
//   | Max keys per user reached                  | max_keys_reached       | 403    | team_id          |
//   | Budget exceeds team ceiling                | budget_above_ceiling   | 400    | max_budget_usd   |
//   | Missing expiry when team requires it       | expiry_required        | 400    | expires_at       |
//   | Expiry exceeds team max expiry days        | expiry_too_far         | 400    | expires_at       |
//   | Rate limits exceed team limits             | limit_above_team       | 400    | rpm, tpm, …      |
//
// The checks read nothing themselves: the caller gives them the team's policies (read in the
// creating transaction, the self-service row locked) and a count of the member's live keys.
import type { Actor } from '../http/actor.ts';
import { ApiError } from '../http/errors.ts';
import type { LimitsInput } from '../policy/policy-input.ts';
import type { Policy } from '../policy/policy.ts';
import { microToUsd } from '../usage/spend.repository.ts';
import type { SelfServicePolicy } from './self-service.repository.ts';

const DAY_MS = 86_400_000;

/** What a member asks for, as far as the table cares. */
export type SelfServiceAsk = Pick<LimitsInput, 'rpm' | 'rph' | 'rpd' | 'tpm' | 'tpd' | 'max_parallel_requests' | 'max_budget_usd' | 'budget_mode'> & {
  expires_at?: string | null | undefined;
};

export interface SelfServiceCase {
  actor: Actor;
  teamId: number;
  policy: SelfServicePolicy;
  /** the team's own limits (policies, scope team:<id>) */
  teamLimits: Policy;
  ask: SelfServiceAsk;
  now: number;
  /** the member's live keys in the team, counted in the creating transaction */
  liveKeys: () => Promise<number>;
}

type Check = (c: SelfServiceCase) => ApiError | undefined | Promise<ApiError | undefined>;

export function selfServiceDisabled(c: SelfServiceCase): ApiError | undefined {
  if (!c.policy.enabled) return new ApiError('self_service_disabled', `team_id: self-service key creation is disabled on team ${c.teamId}; ask a team owner or an admin`, 'team_id');
  // The policy is the team's; an owner can also take one member's right away (memberships.key_create_self).
  if (c.actor.noSelfService?.has(c.teamId)) return new ApiError('self_service_disabled', `team_id: a team owner turned off self-service key creation for you on team ${c.teamId}`, 'team_id');
  return undefined;
}

export async function maxKeysReached(c: SelfServiceCase): Promise<ApiError | undefined> {
  const max = c.policy.maxKeysPerUser;
  if (max === null) return undefined;
  const live = await c.liveKeys();
  if (live < max) return undefined;
  return new ApiError('max_keys_reached', `team_id: you already hold ${live} live keys in team ${c.teamId}, the most this team allows (max_keys_per_user ${max}); revoke one first`, 'team_id', { max_keys_per_user: max });
}

export function budgetAboveCeiling(c: SelfServiceCase): ApiError | undefined {
  const ceiling = c.policy.maxBudgetMicro;
  if (ceiling === null) return undefined;
  const usd = microToUsd(ceiling);
  const asked = c.ask.max_budget_usd;
  // A key without a budget, or with a soft one (it only alerts), could spend without bound.
  if (asked == null) return new ApiError('budget_above_ceiling', `max_budget_usd: required: this team caps self-service keys at $${usd}, and a key without a budget would be unbounded`, 'max_budget_usd', { max_budget_usd: usd });
  if (Math.round(asked * 1_000_000) > ceiling) return new ApiError('budget_above_ceiling', `max_budget_usd: $${asked} is above this team's ceiling for self-service keys, $${usd}`, 'max_budget_usd', { max_budget_usd: usd });
  if (c.ask.budget_mode === 'soft') return new ApiError('budget_above_ceiling', `budget_mode: must be "hard": a soft budget only alerts, and this team caps self-service keys at $${usd}`, 'budget_mode', { max_budget_usd: usd });
  return undefined;
}

export function expiryRequired(c: SelfServiceCase): ApiError | undefined {
  if (c.ask.expires_at != null) return undefined;
  if (c.policy.requireExpiry) return new ApiError('expiry_required', 'expires_at: required: this team requires self-service keys to expire', 'expires_at');
  // A maximum lifetime implies an expiry: a key without one would live forever.
  const days = c.policy.maxExpiryDays;
  if (days !== null) return new ApiError('expiry_required', `expires_at: required: this team's self-service keys expire within ${days} days`, 'expires_at', { max_expiry_days: days });
  return undefined;
}

export function expiryTooFar(c: SelfServiceCase): ApiError | undefined {
  const days = c.policy.maxExpiryDays;
  if (days === null || c.ask.expires_at == null) return undefined;
  const latest = c.now + days * DAY_MS;
  if (Date.parse(c.ask.expires_at) <= latest) return undefined;
  return new ApiError('expiry_too_far', `expires_at: must be at most ${days} days ahead (${new Date(latest).toISOString()}) in this team`, 'expires_at', { max_expiry_days: days, latest_expires_at: new Date(latest).toISOString() });
}

const TEAM_LIMITS = [
  ['rpm', 'rpm'],
  ['rph', 'rph'],
  ['rpd', 'rpd'],
  ['tpm', 'tpm'],
  ['tpd', 'tpd'],
  ['max_parallel_requests', 'maxParallel'],
] as const;

/**
 * A limit the team has caps the key's; a key without a value for it is fine (the team's limit
 * still applies to it at admission, key ⊂ team).
 */
export function limitAboveTeam(c: SelfServiceCase): ApiError | undefined {
  for (const [field, level] of TEAM_LIMITS) {
    const team = c.teamLimits[level];
    const asked = c.ask[field];
    if (team != null && asked != null && asked > team) {
      return new ApiError('limit_above_team', `${field}: ${asked} is above the team's own limit, ${team}`, field, { team_limit: team });
    }
  }
  return undefined;
}

/** Seed 002's table, in its order. */
export const SEED_002_CHECKS: readonly Check[] = [selfServiceDisabled, maxKeysReached, budgetAboveCeiling, expiryRequired, expiryTooFar, limitAboveTeam];

/** Throws the first row's refusal; returns when the request is within the team's policy. */
export async function assertWithinPolicy(c: SelfServiceCase): Promise<void> {
  for (const check of SEED_002_CHECKS) {
    const refusal = await check(c);
    if (refusal) throw refusal;
  }
}
