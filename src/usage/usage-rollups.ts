// The usage rollups (table usage_rollups, migration 0015): every request log row counted at seven
// levels, so that any grouping of GET /api/usage reads a few rows instead of the log.
//
//   level        bucket          dimensions kept                          kept for
//   key_day      YYYY-MM-DD      team, user, key, model, provider         ever
//   key_hour     YYYY-MM-DDTHH   team, user, key, model, provider         HOURLY_DAYS
//   team_day     YYYY-MM-DD      team, model, provider                    ever
//   team_hour    YYYY-MM-DDTHH   team, model, provider                    HOURLY_DAYS
//   team_month   YYYY-MM         team, model, provider                    ever
//   org_day      YYYY-MM-DD      model, provider                          ever
//   org_hour     YYYY-MM-DDTHH   model, provider                          HOURLY_DAYS
//
// A dimension a level does not keep holds 0 (ids) or '' (text); so does a missing one (a personal
// key has no team, a refused request no provider). Every dimension is in the primary key, so each
// level is an exact GROUP BY of the log: a key moved to another team later keeps its earlier usage
// under the team it was used in. Every logged request counts, refused ones too (they are the
// `errors`); cost and unpriced requests are the same as the spend rollups'.
// Written by the log sinks (usage/log-sinks.ts) in the flush's transaction, one statement per batch.
import type { LogRow } from './log-writer.ts';

export const LEVELS = ['key_day', 'key_hour', 'team_day', 'team_hour', 'team_month', 'org_day', 'org_hour'] as const;
export type Level = (typeof LEVELS)[number];
export const HOUR_LEVELS: readonly Level[] = ['key_hour', 'team_hour', 'org_hour'];

/** How long hourly rows are kept (migration 0015 backfills this many days too). */
export const HOURLY_DAYS = 7;

export const DIMENSIONS = ['team_id', 'user_id', 'key_id', 'model', 'provider'] as const;
export const COUNTERS = ['requests', 'errors', 'tokens_in', 'tokens_out', 'cached_tokens', 'reasoning_tokens', 'cost_micro', 'unpriced_requests'] as const;
export type Counter = (typeof COUNTERS)[number];
/** The primary key's order: the order rows are written in (lock order) and read in. */
export const KEY_COLUMNS = ['level', 'bucket', 'org_id', ...DIMENSIONS] as const;
export const USAGE_COLUMNS = [...KEY_COLUMNS, ...COUNTERS] as const;
export const USAGE_PG_TYPES = ['text', 'text', 'int', 'int', 'int', 'int', 'text', 'text', 'bigint', 'bigint', 'bigint', 'bigint', 'bigint', 'bigint', 'bigint', 'bigint'];

export interface UsageRollup {
  level: Level; bucket: string; org_id: number; team_id: number; user_id: number; key_id: number; model: string; provider: string;
  requests: number; errors: number; tokens_in: number; tokens_out: number; cached_tokens: number; reasoning_tokens: number; cost_micro: number; unpriced_requests: number;
}

/** The first hour bucket still kept at `now` ('YYYY-MM-DDTHH'): older hourly rows are pruned. */
export function firstKeptHour(now: number): string {
  return new Date(Math.floor(now / 3_600_000) * 3_600_000 - HOURLY_DAYS * 86_400_000).toISOString().slice(0, 13);
}

/**
 * The batch's rows summed at every level, sorted by primary key (concurrent replicas then take
 * row locks in one order). Plain string keys and numbers: this runs on every flush.
 */
export function usageRollupsOf(rows: readonly LogRow[]): UsageRollup[] {
  const out = new Map<string, UsageRollup>();
  const add = (level: Level, bucket: string, r: LogRow, team: number, user: number, key: number, provider: string) => {
    const k = `${level}|${bucket}|${r.org_id}|${team}|${user}|${key}|${r.model}|${provider}`;
    let u = out.get(k);
    if (!u) {
      u = { level, bucket, org_id: r.org_id, team_id: team, user_id: user, key_id: key, model: r.model, provider, requests: 0, errors: 0, tokens_in: 0, tokens_out: 0, cached_tokens: 0, reasoning_tokens: 0, cost_micro: 0, unpriced_requests: 0 };
      out.set(k, u);
    }
    u.requests++;
    if (r.status_code >= 400) u.errors++;
    u.tokens_in += Number(r.tokens_in ?? 0);
    u.tokens_out += Number(r.tokens_out ?? 0);
    u.cached_tokens += Number(r.cached_tokens ?? 0);
    u.reasoning_tokens += Number(r.reasoning_tokens ?? 0);
    u.cost_micro += Number(r.cost_micro ?? 0);
    if (r.unpriced) u.unpriced_requests++;
  };
  for (const r of rows) {
    const day = r.created_at.slice(0, 10);
    const hour = r.created_at.slice(0, 13);
    const team = r.team_id ?? 0;
    const user = r.user_id ?? 0;
    const provider = r.provider ?? '';
    add('key_day', day, r, team, user, r.key_id, provider);
    add('key_hour', hour, r, team, user, r.key_id, provider);
    add('team_day', day, r, team, 0, 0, provider);
    add('team_hour', hour, r, team, 0, 0, provider);
    add('team_month', r.created_at.slice(0, 7), r, team, 0, 0, provider);
    add('org_day', day, r, 0, 0, 0, provider);
    add('org_hour', hour, r, 0, 0, 0, provider);
  }
  return [...out.values()].sort(comparePk);
}

const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
function comparePk(x: UsageRollup, y: UsageRollup): number {
  for (const c of KEY_COLUMNS) {
    const d = cmp(x[c], y[c]);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Hourly rows past HOURLY_DAYS are deleted as the batches' hours move on: at most one delete (an
 * index range per hourly level) per hour of traffic and process. Returns the cutoff bucket when due.
 */
export class HourPruner {
  private before = '';
  due(now: number): string | undefined {
    const cutoff = firstKeptHour(now);
    return cutoff > this.before ? cutoff : undefined;
  }
  done(cutoff: string | undefined): void {
    if (cutoff !== undefined && cutoff > this.before) this.before = cutoff;
  }
}
