// The /v1 fuzz suite, for one dialect (test/fuzz/v1*.test.ts). The completion endpoints are served
// by the fast lane on the raw http server, so cases go over a real loopback socket (a keep-alive
// undici pool, or a raw socket for header injection), never through inject. On top of the
// properties of every response (fuzz-checks.ts): a refused request never reaches the upstream,
// an admitted one reaches it at most once, and after every request nothing stays reserved — no
// budget reservation and no concurrency slot at any level of the key, nothing still in flight.
// The fake upstream runs in a process of its own (fuzz-fake.ts): a forwarded body that kills it
// fails that case, not the run.
import { describe, test } from 'node:test';
import { Pool } from 'undici';
import { startFuzzGateway, type FuzzGateway } from './fuzz-gateway.ts';
import { FakeProcess } from './fuzz-fake.ts';
import { fuzzCase, type FuzzCase, type Route } from './fuzz-http.ts';
import { v1Body } from './fuzz-v1-bodies.ts';
import { V1_VALID, v1Credential, v1Headers } from './fuzz-credentials.ts';
import { errorLabel, type Violation } from './fuzz-checks.ts';
import { Findings } from './fuzz-findings.ts';
import { viaPool, type Received, type Sent } from './fuzz-transport.ts';
import { runFamily } from './fuzz-run.ts';
import { dialectSkip, type Dialect } from './gateway.ts';
import { explainKey } from '../../src/policy/explain.ts';
import { loadKeyContext, type KeyContext } from '../../src/keys/key-context.ts';
import { hashSecret } from '../../src/keys/key-format.ts';

/** Served by src/proxy/fast-lane.ts, ahead of Fastify: not in the route table. */
const FAST_LANE: Route[] = ['/v1/chat/completions', '/v1/completions', '/v1/embeddings'].map((url) => ({ method: 'POST', url }));

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

export async function fuzzV1(dialect: Dialect, file: string, runs: number, runsVar: string): Promise<void> {
  const probe = await startFuzzGateway('sqlite');
  const routes = [...FAST_LANE, ...probe.app.routeTable.filter((r) => r.url.startsWith('/v1/'))];
  await probe.close();
  describe(`fuzz /v1 (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    for (const route of routes) {
      test(`${route.method} ${route.url} (${dialect}): ${runs} cases`, { timeout: 600_000 }, async (ctx) => {
        const fake = await FakeProcess.start();
        const gw = await startFuzzGateway(dialect, fake.baseUrl);
        const pool = new Pool(`http://127.0.0.1:${gw.port}`, { connections: 1, pipelining: 1 });
        try {
          const key = (await loadKeyContext(gw.runtime.deps.db.kysely, gw.runtime.deps.orgAccess, hashSecret(gw.fixtures.keySecret)))!;
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
          await runFamily(ctx, file, runsVar, fuzzCase([route], { cred: v1Credential, body: v1Body }), target, runs);
        } finally {
          await pool.close();
          await gw.close();
          await fake.close();
        }
      });
    }
  });
}
