// Fuzzing every /v1 endpoint (issue 8, "keep proving it"). The completion endpoints are served by
// the fast lane on the raw http server, so cases go over a real loopback socket (a keep-alive
// undici pool, or a raw socket for header injection), never through inject. On top of the
// properties of every response (test/support/fuzz-checks.ts): a refused request never reaches the
// upstream, an admitted one reaches it at most once, and after every request nothing stays reserved —
// no budget reservation and no concurrency slot at any level of the key, nothing still in flight. The fake upstream runs in
// a process of its own (fuzz-fake.ts): a forwarded body that kills it fails that case, not the run.
import { describe, test } from 'node:test';
import { Pool } from 'undici';
import { startFuzzGateway, type FuzzGateway } from '../support/fuzz-gateway.ts';
import { FakeProcess } from '../support/fuzz-fake.ts';
import { fuzzCase, type FuzzCase, type Route } from '../support/fuzz-http.ts';
import { v1Body } from '../support/fuzz-v1-bodies.ts';
import { V1_VALID, v1Credential, v1Headers } from '../support/fuzz-credentials.ts';
import { errorLabel, type Violation } from '../support/fuzz-checks.ts';
import { Findings } from '../support/fuzz-findings.ts';
import { viaPool, type Received, type Sent } from '../support/fuzz-transport.ts';
import { FUZZ_RUNS, runFamily } from '../support/fuzz-run.ts';
import { explainKey } from '../../src/policy/explain.ts';
import { loadKeyContext, type KeyContext } from '../../src/keys/key-context.ts';
import { hashSecret } from '../../src/keys/key-format.ts';

/** Served by src/proxy/fast-lane.ts, ahead of Fastify: not in the route table. */
const FAST_LANE: Route[] = ['/v1/chat/completions', '/v1/completions', '/v1/embeddings'].map((url) => ({ method: 'POST', url }));

const probe = await startFuzzGateway('sqlite');
const V1_ROUTES = [...FAST_LANE, ...probe.app.routeTable.filter((r) => r.url.startsWith('/v1/'))];
await probe.close();

/** What the key still holds after its request ended: budget reserved or slots taken, at any level. */
async function heldAfter(gw: FuzzGateway, ctx: KeyContext): Promise<string | undefined> {
  let held: string | undefined;
  // Settling runs right after the response's last byte; give it a moment before calling it a leak.
  for (let i = 0; i < 40; i++) {
    // What GET /api/keys/{id}/limits shows, without its database reads (a few per case add up).
    const deps = gw.runtime.deps;
    const { layers } = await explainKey(deps, ctx);
    held = [
      ...layers.flatMap((l) => [l.budget && l.budget.reserved_usd > 0 ? `budget reserved at ${l.level} level` : '', l.concurrency && l.concurrency.in_flight > 0 ? `slot held at ${l.level} level` : '']),
      // The per-replica organization ceiling, and the request itself still inside the pipeline.
      deps.orgSlots.held(ctx.orgId) > 0 ? 'organization slot held' : '',
      deps.inFlight.size > 0 ? 'request still in the pipeline' : '',
    ].filter(Boolean).join(', ') || undefined;
    if (!held) return undefined;
    await new Promise((r) => setTimeout(r, 50));
  }
  return held;
}

async function v1Checks(gw: FuzzGateway, fake: FakeProcess, key: KeyContext, c: FuzzCase, res: Received): Promise<Violation[]> {
  const out: Violation[] = [];
  const upstream = await fake.take();
  const label = res.ok ? `${res.status} ${errorLabel(res.body.toString('utf8'))}` : 'no answer';
  if ('crashed' in upstream) out.push({ kind: 'upstream-crashed', label: upstream.crashed, detail: `the gateway forwarded this request and ${upstream.crashed}; the gateway answered ${label}` });
  else if (FAST_LANE.some((r) => r.url === c.route.url) && c.method === 'POST') {
    const status = res.ok ? res.status : 0;
    if ((!res.ok || res.status >= 400) && upstream.requests > 0) out.push({ kind: 'upstream-reached', label, detail: `refused (${label}) after the upstream got ${upstream.requests} request(s)` });
    if (status >= 200 && status < 300 && upstream.requests > 1) out.push({ kind: 'duplicate-upstream', label, detail: `one request, ${upstream.requests} upstream requests` });
  }
  if (V1_VALID.has(c.cred)) {
    const held = await heldAfter(gw, key);
    if (held) out.push({ kind: 'reservation-left', label: held, detail: `after the request ended: ${held}` });
  }
  return out;
}

describe('fuzz /v1 (sqlite)', () => {
  for (const route of V1_ROUTES) {
    test(`${route.method} ${route.url}: ${FUZZ_RUNS} cases`, { timeout: 600_000 }, async (ctx) => {
      const fake = await FakeProcess.start();
      const gw = await startFuzzGateway('sqlite', fake.baseUrl);
      const pool = new Pool(`http://127.0.0.1:${gw.port}`, { connections: 1, pipelining: 1 });
      try {
        const key = (await loadKeyContext(gw.runtime.deps.db.kysely, hashSecret(gw.fixtures.keySecret)))!;
        // No database watch: a /v1 request writes its log row, spend and usage in the background;
        // what must hold for a refused one is that the upstream never saw it and nothing stays reserved.
        const target = {
          gw,
          findings: new Findings(gw.secrets.named),
          credentials: (tag: string) => v1Headers(tag, gw.fixtures),
          send: (sent: Sent) => viaPool(pool, gw.port, sent),
          watchReads: false,
          // Write a completion's log row now: a row the writer cannot store is then blamed on its request.
          ...(FAST_LANE.includes(route) ? { settle: () => gw.runtime.deps.logWriter.flush().catch(() => {}) } : {}),
          after: (c: FuzzCase, _sent: Sent, res: Received) => v1Checks(gw, fake, key, c, res),
        };
        await runFamily(ctx, 'test/fuzz/v1.test.ts', 'TOLLGATE_FUZZ_RUNS', fuzzCase([route], { cred: v1Credential, body: v1Body }), target, FUZZ_RUNS);
      } finally {
        await pool.close();
        await gw.close();
        await fake.close();
      }
    });
  }
});
