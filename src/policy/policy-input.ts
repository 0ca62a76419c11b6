// The limits/budget fields as the API accepts and shows them (USD as decimal numbers at the edge,
// integer micro-USD inside). Used by PUT/PATCH …/limits and inline on key and team creation.
import { z } from 'zod';
import { microToUsd } from '../usage/spend.repository.ts';
import { EMPTY_POLICY, type BudgetPeriod, type MemberShare, type Policy } from './policy.ts';

// Request counts are 32-bit columns; token counts 64-bit (docs/limits.md).
const requests = z.number().int('must be a whole number').positive('must be positive').max(2_147_483_647).nullable();
const count = z.number().int('must be a whole number').positive('must be positive').max(1e12).nullable();
const usd = z.number().nonnegative('must not be negative').max(1e9, 'must be at most 1e9').nullable();

export const limitFields = {
  rpm: requests.optional(),
  rph: requests.optional(),
  rpd: requests.optional(),
  tpm: count.optional(),
  tpd: count.optional(),
  max_parallel_requests: requests.optional(),
  max_budget_usd: usd.optional(),
  budget_period: z.enum(['total', 'daily', 'weekly', 'monthly']).optional(),
  budget_mode: z.enum(['hard', 'soft']).optional(),
  alert_thresholds: z.array(z.number().gt(0, 'must be above 0').max(10, 'must be at most 10')).max(10).optional(),
  // Teams only (checked where a policy is saved: policies.repository.ts): each member's share of
  // the team's tpm / tpd, 'fair' among its active members or a fixed fraction.
  member_share: z.union([z.literal('fair'), z.number().gt(0, 'must be above 0').max(1, 'must be at most 1')], { error: 'must be "fair" or a fraction above 0 and at most 1' }).nullable().optional(),
};

export const limitsBody = z.strictObject(limitFields);
export type LimitsInput = z.infer<typeof limitsBody>;

export const toMicro = (usd: number): number => Math.round(usd * 1_000_000);

export function hasLimitFields(input: Record<string, unknown>): boolean {
  return Object.keys(limitFields).some((k) => input[k] !== undefined);
}

/** PUT replaces (omitted fields are cleared); PATCH merges into `base`. */
export function applyLimits(base: Policy, input: LimitsInput, mode: 'replace' | 'merge'): Policy {
  const from = mode === 'replace' ? EMPTY_POLICY : base;
  const pick = <K extends keyof LimitsInput>(k: K, current: number | null) => (input[k] === undefined ? current : (input[k] as number | null));
  const budgetLimit = input.max_budget_usd === undefined ? (from.budget ? from.budget.limitMicro : null) : input.max_budget_usd === null ? null : toMicro(input.max_budget_usd);
  return {
    rpm: pick('rpm', from.rpm),
    rph: pick('rph', from.rph),
    rpd: pick('rpd', from.rpd),
    tpm: pick('tpm', from.tpm),
    tpd: pick('tpd', from.tpd),
    maxParallel: pick('max_parallel_requests', from.maxParallel),
    budget:
      budgetLimit === null
        ? null
        : {
            limitMicro: budgetLimit,
            period: (input.budget_period ?? from.budget?.period ?? 'monthly') as BudgetPeriod,
            mode: input.budget_mode ?? from.budget?.mode ?? 'hard',
            thresholds: [...new Set(input.alert_thresholds ?? from.budget?.thresholds ?? [])].sort((a, b) => a - b),
          },
    memberShare: input.member_share === undefined ? from.memberShare : (input.member_share as MemberShare | null),
  };
}

export function policyView(p: Policy) {
  return {
    rpm: p.rpm,
    rph: p.rph,
    rpd: p.rpd,
    tpm: p.tpm,
    tpd: p.tpd,
    max_parallel_requests: p.maxParallel,
    max_budget_usd: p.budget ? microToUsd(p.budget.limitMicro) : null,
    budget_period: p.budget?.period ?? null,
    budget_mode: p.budget?.mode ?? null,
    alert_thresholds: p.budget?.thresholds ?? [],
    member_share: p.memberShare,
  };
}
