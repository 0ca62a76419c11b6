// Liveness (/healthz: the process answers) and readiness (/readyz: its dependencies answer:
// the database, and in cluster mode Redis).
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.ts';

export function registerHealthRoutes(app: FastifyInstance, deps: Deps): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const checks: Record<string, string> = {};
    try {
      await sql`select 1`.execute(deps.db.kysely);
      checks.database = 'ok';
    } catch {
      checks.database = 'unreachable';
    }
    if (deps.config.redisUrl) {
      // Cluster mode: counters answer, and this replica hears the others' cache invalidations.
      const [store, pubsub] = await Promise.all([deps.counters.ping?.() ?? true, deps.invalidator.ping?.() ?? true]);
      checks.redis = store && pubsub ? 'ok' : 'unreachable';
    }
    checks.log_queue = String(deps.logWriter.pending);
    checks.log_rows_dropped = String(deps.logWriter.dropped);
    const ready = checks.database === 'ok' && (checks.redis === undefined || checks.redis === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks });
  });
}
