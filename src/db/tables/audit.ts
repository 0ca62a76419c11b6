// Row types of the schema created by migrations/ (src/db/types.ts names every table): the audit trail —
// its events and each organization's chain head.
import type { Generated } from 'kysely';

export interface AuditEventsTable {
  id: Generated<number>;
  created_at: string;
  org_id: number;
  team_id: number | null;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  before: string | null;
  after: string | null;
  amount_micro: number | null;
  source_ip: string | null;
  user_agent: string | null;
  /** the chain (audit/audit-chain.ts): hash of the org's previous event, and this event's */
  prev_hash: string | null;
  hash: string | null;
}

export interface AuditHeadsTable {
  org_id: number;
  last_id: number;
  last_hash: string;
}
