// Frozen once landed. What a request log row records beyond tokens and cost (docs/observability.md):
// - cached_tokens: prompt tokens the provider served from its cache (OpenAI
//   usage.prompt_tokens_details.cached_tokens; 0 when not reported);
// - reasoning_tokens: output tokens spent reasoning (usage.completion_tokens_details.reasoning_tokens);
// - upstream_ms: from sending the request upstream to its last byte; ttfb_ms: to its first byte
//   (null when no upstream was called). latency_ms − upstream_ms is the gateway's own overhead.
import type { Kysely } from 'kysely';
import type { DialectName } from '../connection.ts';

export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('request_logs').addColumn('cached_tokens', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('request_logs').addColumn('reasoning_tokens', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('request_logs').addColumn('upstream_ms', 'integer').execute();
  await db.schema.alterTable('request_logs').addColumn('ttfb_ms', 'integer').execute();
}
