// Limits and budgets of one level (key, member, service account, team, org), and the calendar
// arithmetic of budget periods (UTC, calendar-aligned; weeks start on Monday).
import type { Selectable } from 'kysely';
import type { PoliciesTable } from '../db/types.ts';
import type { Level } from './admission.ts';

export type BudgetPeriod = 'total' | 'daily' | 'weekly' | 'monthly';
export type BudgetMode = 'hard' | 'soft';

export interface Budget {
  limitMicro: number;
  period: BudgetPeriod;
  mode: BudgetMode;
  /** fractions of the limit at which an alert fires once per period, e.g. [0.5, 0.8, 1] */
  thresholds: number[];
}

/**
 * A team's member share (seed 001: "a single user cannot exhaust team quota alone"): each member's
 * token windows are capped at this part of the team's tpm / tpd. 'fair' divides the team's limit
 * among its active members; a number is a fixed fraction (0 < x ≤ 1).
 */
export type MemberShare = 'fair' | number;

export interface Policy {
  rpm: number | null;
  rph: number | null;
  rpd: number | null;
  tpm: number | null;
  tpd: number | null;
  maxParallel: number | null;
  budget: Budget | null;
  /** teams only (member-share.ts) */
  memberShare: MemberShare | null;
}

/** One level that applies to a request: its counters live under `scope`. */
export interface LevelPolicy {
  level: Level;
  /** e.g. "key:12", "member:3:7", "team:3", "org:1" */
  scope: string;
  policy: Policy;
  /** a team with a 'fair' member share: its active members when the policy was loaded */
  members?: number;
  /** a member level whose token windows carry the team's member share (member-share.ts) */
  share?: { fraction: number; of: MemberShare; members: number | undefined; team: { tpm: number | null; tpd: number | null } };
}

export const EMPTY_POLICY: Policy = { rpm: null, rph: null, rpd: null, tpm: null, tpd: null, maxParallel: null, budget: null, memberShare: null };

/** The stored text of a member share, back to its value ('fair', or a fraction). */
export function memberShareFromText(text: string | null): MemberShare | null {
  if (text === null) return null;
  return text === 'fair' ? 'fair' : Number(text);
}

export function policyFromRow(r: Selectable<PoliciesTable> | undefined): Policy {
  if (!r) return EMPTY_POLICY;
  return {
    rpm: r.rpm,
    rph: r.rph,
    rpd: r.rpd,
    tpm: r.tpm,
    tpd: r.tpd,
    maxParallel: r.max_parallel,
    budget:
      r.budget_micro == null
        ? null
        : {
            limitMicro: r.budget_micro,
            period: (r.budget_period ?? 'monthly') as BudgetPeriod,
            mode: (r.budget_mode ?? 'hard') as BudgetMode,
            thresholds: r.alert_thresholds ? (JSON.parse(r.alert_thresholds) as number[]) : [],
          },
    memberShare: memberShareFromText(r.member_share ?? null),
  };
}

export function isEmpty(p: Policy): boolean {
  return p.rpm == null && p.rph == null && p.rpd == null && p.tpm == null && p.tpd == null && p.maxParallel == null && p.budget == null;
}

/** Rate windows: each is a sliding window of 60 buckets (see docs/limits.md for the bound). */
export const WINDOWS = {
  rpm: { ms: 60_000, kind: 'requests' },
  rph: { ms: 3_600_000, kind: 'requests' },
  rpd: { ms: 86_400_000, kind: 'requests' },
  tpm: { ms: 60_000, kind: 'tokens' },
  tpd: { ms: 86_400_000, kind: 'tokens' },
} as const;
export type WindowName = keyof typeof WINDOWS;
export const WINDOW_NAMES = Object.keys(WINDOWS) as WindowName[];
export const BUCKETS_PER_WINDOW = 60;

export interface Period { key: string; start: number; end: number | null }

// Every period boundary is a UTC midnight, so the answer is the same all day: keep the last one.
const lastPeriod = new Map<BudgetPeriod, { day: number; period: Period }>();

/** The period a moment belongs to, as a stable key, with its start and end (ms, end exclusive). */
export function periodOf(period: BudgetPeriod, now: number): Period {
  const day = Math.floor(now / 86_400_000);
  const hit = lastPeriod.get(period);
  if (hit && hit.day === day) return hit.period;
  const computed = computePeriod(period, now);
  lastPeriod.set(period, { day, period: computed });
  return computed;
}

function computePeriod(period: BudgetPeriod, now: number): Period {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const day = d.getUTCDate();
  switch (period) {
    case 'total':
      return { key: 'total', start: 0, end: null };
    case 'daily': {
      const start = Date.UTC(y, m, day);
      return { key: 'd' + new Date(start).toISOString().slice(0, 10), start, end: start + 86_400_000 };
    }
    case 'weekly': {
      const monday = Date.UTC(y, m, day - ((d.getUTCDay() + 6) % 7));
      return { key: 'w' + new Date(monday).toISOString().slice(0, 10), start: monday, end: monday + 7 * 86_400_000 };
    }
    case 'monthly': {
      const start = Date.UTC(y, m, 1);
      return { key: 'm' + new Date(start).toISOString().slice(0, 7), start, end: Date.UTC(y, m + 1, 1) };
    }
  }
}
