// Request log reads: newest first, paged by limit/offset, always scoped to a team, key or org.
import type { Kysely, Selectable } from 'kysely';
import type { Database, RequestLogsTable } from '../db/types.ts';
import { microToUsd } from './spend.repository.ts';

export type LogScope = { orgId: number; teamId?: number; keyId?: number; userId?: number };

export function logView(r: Selectable<RequestLogsTable>) {
  return {
    id: r.id,
    request_id: r.request_id,
    created_at: r.created_at,
    team_id: r.team_id,
    user_id: r.user_id,
    key_id: r.key_id,
    endpoint: r.endpoint,
    model: r.model,
    provider: r.provider,
    status_code: r.status_code,
    error_code: r.error_code,
    streamed: r.streamed === 1,
    tokens_in: r.tokens_in,
    tokens_out: r.tokens_out,
    cost_usd: r.cost_micro == null ? null : microToUsd(r.cost_micro),
    unpriced: r.unpriced === 1,
    usage_estimated: r.usage_estimated === 1,
    latency_ms: r.latency_ms,
    /** the client address as resolved (TOLLGATE_TRUST_PROXY): who used the key, e.g. after a leak */
    client_ip: r.client_ip,
  };
}

export async function listLogs(db: Kysely<Database>, scope: LogScope, limit: number, offset: number) {
  let q = db.selectFrom('request_logs').selectAll().where('org_id', '=', scope.orgId);
  if (scope.teamId !== undefined) q = q.where('team_id', '=', scope.teamId);
  if (scope.keyId !== undefined) q = q.where('key_id', '=', scope.keyId);
  if (scope.userId !== undefined) q = q.where('user_id', '=', scope.userId);
  const rows = await q.orderBy('id', 'desc').limit(limit).offset(offset).execute();
  return rows.map(logView);
}
