// Row types of the schema created by migrations/ (src/db/types.ts names every table): what was spent —
// request logs, the rollups, the log journal's marks, per-minute usage for rate windows, budget alerts.
import type { Generated } from 'kysely';

export interface RequestLogsTable {
  id: Generated<number>;
  request_id: string;
  created_at: string;
  org_id: number;
  team_id: number | null;
  user_id: number | null;
  key_id: number;
  endpoint: string;
  model: string;
  provider: string | null;
  status_code: number;
  error_code: string | null;
  streamed: number;
  tokens_in: number;
  tokens_out: number;
  cost_micro: number | null;
  unpriced: number;
  usage_estimated: number;
  latency_ms: number;
  client_ip: string | null;
  /** migration 0014 */
  cached_tokens: Generated<number>;
  reasoning_tokens: Generated<number>;
  upstream_ms: number | null;
  ttfb_ms: number | null;
  /** migration 0022: tries it took (fallbacks and retries), and the failed ones as JSON */
  attempts: Generated<number>;
  attempt_log: Generated<string | null>;
}

export interface SpendRollupsTable {
  day: string;
  key_id: number;
  model: string;
  org_id: number;
  team_id: number | null;
  user_id: number | null;
  requests: number;
  tokens_in: number;
  tokens_out: number;
  cost_micro: number;
  unpriced_requests: number;
}

export interface OrgDayRollupsTable {
  org_id: number;
  day: string;
  requests: number;
  tokens_in: number;
  tokens_out: number;
  cost_micro: number;
  unpriced_requests: number;
}

/** migration 0015: the request log counted per level (src/usage/usage-rollups.ts) */
export interface UsageRollupsTable {
  level: string;
  bucket: string;
  org_id: number;
  team_id: number;
  user_id: number;
  key_id: number;
  model: string;
  provider: string;
  requests: number;
  errors: number;
  tokens_in: number;
  tokens_out: number;
  cached_tokens: number;
  reasoning_tokens: number;
  cost_micro: number;
  unpriced_requests: number;
}

/** per local log journal: the last row sequence committed (usage/journal.ts, migration 0004) */
export interface JournalMarksTable { journal_id: string; seq: number }

/** forwarded requests and tokens per scope and UTC minute (epoch minutes): rate windows are rebuilt from it */
export interface UsageMinutesTable { scope: string; minute: number; requests: number; tokens: number }

export interface BudgetAlertsTable { scope: string; period: string; threshold: string; created_at: string }
