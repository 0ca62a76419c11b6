// The /api fuzz suite, for one dialect (test/fuzz/api*.test.ts): one test per route family, each
// on a gateway of its own, cases sent with inject (raw sockets for header injection). Families
// come from the app's own route table, so a new route is fuzzed from the day it is added.
import { describe, test } from 'node:test';
import { dialectSkip, type Dialect } from './gateway.ts';
import { startFuzzGateway } from './fuzz-gateway.ts';
import { families, fuzzCase } from './fuzz-http.ts';
import { apiBody } from './fuzz-api-bodies.ts';
import { apiCredential, apiHeaders } from './fuzz-credentials.ts';
import { DbWatch } from './fuzz-db.ts';
import { Findings } from './fuzz-findings.ts';
import { viaInject, type Sent } from './fuzz-transport.ts';
import { runFamily } from './fuzz-run.ts';

/**
 * Cases for a family: PER_ROUTE per route, at most `runs` (TOLLGATE_FUZZ_RUNS / _PG_RUNS). A family
 * of one or two routes (the OpenAPI document, the reference) needs fewer cases than one of twenty
 * to be covered as densely, and the suite's time stays bounded as families are added.
 */
const PER_ROUTE = 1_500;
export const casesFor = (routes: number, runs: number): number => Math.min(runs, Math.max(1, Math.ceil(runs / 10_000 * PER_ROUTE * routes)));

export async function fuzzApi(dialect: Dialect, file: string, runs: number, runsVar: string): Promise<void> {
  const probe = await startFuzzGateway('sqlite');
  const routes = probe.app.routeTable.filter((r) => r.url.startsWith('/api/'));
  await probe.close();
  describe(`fuzz /api (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    for (const [family, members] of families(routes, '/api/')) {
      const cases = casesFor(members.length, runs);
      test(`${family} (${dialect}): ${cases} cases over ${members.length} routes`, { timeout: 600_000 }, async (ctx) => {
        const gw = await startFuzzGateway(dialect);
        try {
          const watch = new DbWatch(gw.runtime.deps.db);
          await watch.init();
          const target = {
            gw,
            watch,
            findings: new Findings(gw.secrets.named),
            credentials: (tag: string) => apiHeaders(tag, gw.fixtures),
            send: (sent: Sent) => viaInject(gw.app, sent),
            watchReads: true,
          };
          await runFamily(ctx, file, runsVar, fuzzCase(members, { cred: apiCredential, body: apiBody }), target, cases);
        } finally {
          await gw.close();
        }
      });
    }
  });
}
