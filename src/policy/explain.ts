// "Which limits apply to this key, and where does it stand?" — every level, its usage, what is
// left and when it resets. Served to admins (GET /api/keys/{id}/limits) and to the key itself
// (GET /v1/key), which also gets its access: scopes, each level's rule and which models it may
// call (access/access-explain.ts, as GET /api/keys/{id}/access).
import type { Deps } from '../deps.ts';
import { ApiError } from '../http/errors.ts';
import type { KeyContext } from '../keys/key-context.ts';
import { iso } from '../clock.ts';
import { microToUsd } from '../usage/spend.repository.ts';
import { BUCKETS_PER_WINDOW, periodOf, WINDOW_NAMES, WINDOWS, type LevelPolicy } from './policy.ts';
import { budgetTtl } from './engine.ts';
import { policyView } from './policy-input.ts';
import { explainAccess, scopeNames } from '../access/access-explain.ts';
import { shardOf } from './redis-keys.ts';
import { shareNote } from './member-share.ts';

export async function explainLevels(deps: Deps, orgId: number, levels: LevelPolicy[]) {
  try {
    return await readLevels(deps, shardOf(orgId), levels);
  } catch (err) {
    if (err instanceof ApiError) throw err;
    // The counter store (Redis) or the rollups are unreachable: say so, as the proxy does.
    throw new ApiError('service_unavailable', 'Usage counters cannot be read right now (the counter store is unreachable); try again shortly.');
  }
}

async function readLevels(deps: Deps, shard: string, levels: LevelPolicy[]) {
  const now = deps.clock.now();
  const layers = [];
  for (const l of levels) {
    const p = l.policy;
    const names = WINDOW_NAMES.filter((n) => p[n] != null);
    const budgetPeriod = p.budget ? periodOf(p.budget.period, now) : undefined;
    const budgetKey = budgetPeriod ? `bg:${l.scope}:${budgetPeriod.key}` : undefined;
    if (budgetKey && budgetPeriod) {
      const peek = await deps.counters.peek([], [], [budgetKey], now, shard);
      if (!peek.budgets[0]) await deps.counters.initBudget(budgetKey, await deps.loadSpent(l.scope, budgetPeriod.start, budgetPeriod.end), budgetTtl(budgetPeriod, now), now, shard);
    }
    const state = await deps.counters.peek(
      names.map((n) => ({ key: `rl:${l.scope}:${n}`, windowMs: WINDOWS[n].ms, bucketMs: WINDOWS[n].ms / BUCKETS_PER_WINDOW, cost: 0 })),
      p.maxParallel != null ? [`cc:${l.scope}`] : [],
      budgetKey ? [budgetKey] : [],
      now,
      shard,
    );
    const windows: Record<string, unknown> = {};
    names.forEach((n, i) => {
      const st = state.windows[i]!;
      const share = shareNote(l, n, p[n]!);
      windows[n] = { limit: p[n], used: st.used, remaining: Math.max(0, p[n]! - st.used), resets_in_seconds: Math.ceil(st.resetMs / 1000), reset_at: st.used > 0 ? iso(now + st.resetMs) : null, ...(share ? { member_share: share } : {}) };
    });
    const b = state.budgets[0];
    layers.push({
      level: l.level,
      scope: l.scope,
      policy: policyView(p),
      windows,
      concurrency: p.maxParallel != null ? { limit: p.maxParallel, in_flight: state.slots[0] ?? 0 } : null,
      budget:
        p.budget && budgetPeriod
          ? {
              limit_usd: microToUsd(p.budget.limitMicro),
              period: p.budget.period,
              mode: p.budget.mode,
              spent_usd: microToUsd(b?.spentMicro ?? 0),
              reserved_usd: microToUsd(b?.reservedMicro ?? 0),
              remaining_usd: microToUsd(Math.max(0, p.budget.limitMicro - (b?.spentMicro ?? 0) - (b?.reservedMicro ?? 0))),
              period_key: budgetPeriod.key,
              resets_at: budgetPeriod.end === null ? null : iso(budgetPeriod.end),
            }
          : null,
    });
  }
  return layers;
}

export async function explainKey(deps: Deps, ctx: KeyContext) {
  const layers = await explainLevels(deps, ctx.orgId, await deps.policies.levelsFor(ctx));
  const access = await explainAccess(deps, { orgId: ctx.orgId, teamId: ctx.teamId, rule: ctx.rule, models: ctx.models }).catch((err: unknown) => {
    if (err instanceof ApiError) throw err;
    // The org's rules or routes need the database, which is unreachable: say so, as above.
    throw new ApiError('service_unavailable', 'Access rules cannot be read right now (the database is unreachable); try again shortly.');
  });
  return { key_id: ctx.keyId, name: ctx.name, team_id: ctx.teamId, user_id: ctx.userId, status: ctx.status, layers, access: { scopes: scopeNames(ctx.scopes), ...access } };
}
