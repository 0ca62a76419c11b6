// Forwarded requests and tokens per scope and UTC minute (table usage_minutes, migration 0004).
// Rate windows kept in process memory are rebuilt from these rows after a start
// (policy/window-rebuild.ts); they are written by the log sink in the same transaction as the log
// rows, so a window rebuilt after a crash counts exactly what was logged.
//
// Scopes are those of the limits engine (policy-cache.ts scopesFor), except that keys are kept per
// key id: a key's lineage (rotation) and a service account's keys are summed when read.
import type { LogRow } from './log-writer.ts';

export interface UsageMinute { scope: string; minute: number; requests: number; tokens: number }

/** The longest rate window (a day) and a margin: older rows are pruned. */
export const MINUTES_KEPT = 25 * 60;

// Rows of a batch mostly share a minute: parse the "YYYY-MM-DDTHH:MM" prefix once per change.
let lastPrefix = '';
let lastMinute = 0;

export function minuteOf(createdAt: string): number {
  const prefix = createdAt.slice(0, 16);
  if (prefix !== lastPrefix) {
    lastMinute = Math.floor(Date.parse(prefix + ':00.000Z') / 60_000);
    lastPrefix = prefix;
  }
  return lastMinute;
}

/**
 * The batch's usage per scope and minute, sorted by (scope, minute) so that concurrent writers take
 * row locks in one order. Only forwarded rows count: a request Tollgate refused itself (no
 * provider) was never admitted and took nothing from any window.
 */
export function usageMinutesOf(rows: readonly LogRow[]): UsageMinute[] {
  const out = new Map<string, UsageMinute>();
  const add = (scope: string, minute: number, tokens: number) => {
    const k = scope + '@' + minute;
    const u = out.get(k);
    if (u) {
      u.requests++;
      u.tokens += tokens;
    } else out.set(k, { scope, minute, requests: 1, tokens });
  };
  for (const r of rows) {
    if (r.provider == null) continue;
    const minute = minuteOf(r.created_at);
    const tokens = Number(r.tokens_in ?? 0) + Number(r.tokens_out ?? 0);
    add(`key:${r.key_id}`, minute, tokens);
    if (r.team_id != null && r.user_id != null) add(`member:${r.team_id}:${r.user_id}`, minute, tokens);
    if (r.team_id != null) add(`team:${r.team_id}`, minute, tokens);
    add(`org:${r.org_id}`, minute, tokens);
  }
  return [...out.values()].sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : a.minute - b.minute));
}
