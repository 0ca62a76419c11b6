// Fuzzing every /api route family (issue 8, "keep proving it"): wrong types, huge and deep bodies,
// unicode and NUL, hostile path ids and query strings, header injection, wrong content types and
// credentials. Families come from the app's own route table, so a new route is fuzzed from the day
// it is added. Each case must get an answer below 500, in OpenAI's error shape with a registered
// code when refused, with no secret in it, and a refused case must leave every table as it was.
// See test/support/fuzz-run.ts for the knobs (cases per family, seed replay).
import { describe, test } from 'node:test';
import { DIALECTS, dialectSkip } from '../support/gateway.ts';
import { startFuzzGateway } from '../support/fuzz-gateway.ts';
import { families, fuzzCase } from '../support/fuzz-http.ts';
import { apiBody } from '../support/fuzz-api-bodies.ts';
import { apiCredential, apiHeaders } from '../support/fuzz-credentials.ts';
import { DbWatch } from '../support/fuzz-db.ts';
import { Findings } from '../support/fuzz-findings.ts';
import { viaInject } from '../support/fuzz-transport.ts';
import { FUZZ_PG_RUNS, FUZZ_RUNS, runFamily } from '../support/fuzz-run.ts';

const probe = await startFuzzGateway('sqlite');
const apiRoutes = probe.app.routeTable.filter((r) => r.url.startsWith('/api/'));
await probe.close();
const FAMILIES = families(apiRoutes, '/api/');

for (const dialect of DIALECTS) {
  const [runs, runsVar] = dialect === 'sqlite' ? [FUZZ_RUNS, 'TOLLGATE_FUZZ_RUNS'] : [FUZZ_PG_RUNS, 'TOLLGATE_FUZZ_PG_RUNS'];
  describe(`fuzz /api (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    for (const [family, routes] of FAMILIES) {
      test(`${family} (${dialect}): ${runs} cases over ${routes.length} routes`, { timeout: 600_000 }, async (ctx) => {
        const gw = await startFuzzGateway(dialect);
        try {
          const watch = new DbWatch(gw.runtime.deps.db);
          await watch.init();
          const target = {
            gw,
            watch,
            findings: new Findings(gw.secrets.named),
            credentials: (tag: string) => apiHeaders(tag, gw.fixtures),
            send: (sent: Parameters<typeof viaInject>[1]) => viaInject(gw.app, sent),
            watchReads: dialect === 'sqlite',
          };
          await runFamily(ctx, 'test/fuzz/api.test.ts', runsVar, fuzzCase(routes, { cred: apiCredential, body: apiBody }), target, runs);
        } finally {
          await gw.close();
        }
      });
    }
  });
}
