// Forwarded requests and tokens per scope and UTC minute (table usage_minutes, migration 0004).
// Rate windows kept in process memory are rebuilt from these rows after a start
// (policy/window-rebuild.ts); they are written by the log sink in the same transaction as the log
// rows, so a window rebuilt after a crash counts exactly what was logged.
//
// Rows are kept for keys (per key id), teams and organizations. A key's rotation lineage, a member's
// keys (team_id, user_id) and a service account's keys are few, and are summed from the key rows
// when read (policy/window-rebuild.ts); teams and organizations, which may have thousands of keys,
// have rows of their own.
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

interface KeyMinute { team: number | null; org: number; requests: number; tokens: number }

/**
 * The batch's usage per scope and minute, sorted by (scope, minute) so that concurrent writers take
 * row locks in one order. Only forwarded rows count: a request Tollgate refused itself (no
 * provider) was never admitted and took nothing from any window. Rows are summed per minute and
 * key id first (numbers only: this runs for every row of every flush); scopes are named per key.
 */
export function usageMinutesOf(rows: readonly LogRow[]): UsageMinute[] {
  const minutes = new Map<number, Map<number, KeyMinute>>();
  for (const r of rows) {
    if (r.provider == null) continue;
    const minute = minuteOf(r.created_at);
    let keys = minutes.get(minute);
    if (!keys) minutes.set(minute, (keys = new Map()));
    const tokens = Number(r.tokens_in ?? 0) + Number(r.tokens_out ?? 0);
    const k = keys.get(r.key_id);
    if (k) {
      k.requests++;
      k.tokens += tokens;
    } else keys.set(r.key_id, { team: r.team_id ?? null, org: r.org_id, requests: 1, tokens });
  }
  const out = new Map<string, UsageMinute>();
  const add = (scope: string, minute: number, k: KeyMinute) => {
    const id = scope + '@' + minute;
    const u = out.get(id);
    if (u) {
      u.requests += k.requests;
      u.tokens += k.tokens;
    } else out.set(id, { scope, minute, requests: k.requests, tokens: k.tokens });
  };
  for (const [minute, keys] of minutes) {
    for (const [keyId, k] of keys) {
      add(`key:${keyId}`, minute, k);
      if (k.team !== null) add(`team:${k.team}`, minute, k);
      add(`org:${k.org}`, minute, k);
    }
  }
  return [...out.values()].sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : a.minute - b.minute));
}
