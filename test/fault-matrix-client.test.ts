// Fault matrix, client faults (issue 8, "Keep proving it"): clients that abort a stream in the
// middle, that leave before the first byte (the upstream slow, or never answering), and clients that
// stop reading a stream with the connection left open — mixed with normal requests, through a real
// Tollgate. Besides what every cell holds (support/fault-checks.ts), each request a client abandoned
// is logged once as the client's doing (client_*), metered from the upstream's usage when Tollgate
// could still read it or as a flagged estimate otherwise, and no upstream connection outlives it.
import { describe, test, before, after, type TestContext } from 'node:test';
import { startGateway, UPSTREAM_KEY, type Gateway } from './support/gateway.ts';
import { startFaultUpstream, type FaultUpstream } from './support/fault-upstream.ts';
import { faultEnv, mix, ok, times, type Shot } from './support/fault-load.ts';
import { openLogStore, runCell, type Expect, type LogStore } from './support/fault-checks.ts';

const MODELS = ['fault', 'fault_drip-5', 'fault_drip-20', 'fault_linger-300', 'fault_slow-300', 'fault_hang', 'fault_pad-32768'];
/**
 * The whole-response timeout, far above the stall time here: a client that stops reading is found
 * once the socket buffers between it and the upstream are full, and on a busy machine the upstream
 * (in this process) can take seconds to fill them; the whole-response timeout must not end the
 * stream first. Upstream timeouts have their own cells (fault-matrix-upstream.test.ts).
 */
const WHOLE_MS = 20_000;
/** A stalled client is let go within this: the buffers filled, the stall time, the drain. */
const STALL_DEADLINE_MS = 15_000;

describe('fault matrix: client faults', () => {
  let fault: FaultUpstream;
  let gw: Gateway;
  let store: LogStore;
  before(async () => {
    fault = await startFaultUpstream({ requireAuth: UPSTREAM_KEY, completionTokens: 4096 });
    gw = await startGateway({ fake: fault, env: faultEnv(MODELS, { TOLLGATE_UPSTREAM_TIMEOUT_MS: String(WHOLE_MS) }) });
    store = openLogStore(gw.runtime.deps.config.databaseUrl);
  });
  after(async () => {
    await gw?.close();
    await fault?.close();
  });

  const cell = (t: TestContext, name: string, shots: Shot[], expect: Expect = {}): Promise<void> => runCell(t, { gw, store, fault }, name, shots, expect);

  test('aborts mid-stream: short streams are read on for the usage the upstream reports, long ones cancelled after the drain window and estimated; leaving after [DONE] is no abort', async (t) => {
    await cell(t, 'abort mid-stream', mix(
      times(8, { model: 'fault_drip-5', client: 'abort-mid', abortAfter: 3, maxTokens: 40 }),
      times(4, { model: 'fault_drip-5', client: 'abort-mid', abortAfter: 1, maxTokens: 40, includeUsage: true }),
      times(8, { model: 'fault_drip-20', client: 'abort-mid', abortAfter: 3, maxTokens: 400 }),
      // The SDK hangs up as soon as it reads [DONE]; this upstream ends its body 300 ms later.
      times(6, { model: 'fault_linger-300', client: 'sdk-stream', maxTokens: 16 }),
      ok(6),
    ));
  });

  test('aborts before the first byte: logged once as the client\'s doing, the upstream let go of (the slow one read for its usage, the silent stream within its first-byte timeout)', async (t) => {
    await cell(t, 'abort before first byte', mix(
      times(8, { model: 'fault_slow-300', client: 'abort-early', maxTokens: 16 }),
      times(8, { model: 'fault_slow-300', client: 'abort-early', maxTokens: 16, stream: true }),
      times(4, { model: 'fault_hang', client: 'abort-early', maxTokens: 16, stream: true }),
      ok(6),
    ), {
      // The client left before the response head, so only the rows say what happened to it.
      unmatched: (row) => {
        if (/^client_/.test(row.error_code ?? '')) return undefined;
        if (row.model === 'fault_hang' && row.error_code === 'upstream_timeout') return undefined;
        return `a request whose client left early is logged as ${row.status_code} ${row.error_code}`;
      },
    });
  });

  test('stops reading a stream, connection open: disconnected after the stall time, the upstream cancelled, metered, logged; others are served meanwhile', async (t) => {
    await cell(t, 'stops reading', mix(
      // 600 events padded with 32 KiB comments: ~20 MB, far more than the socket buffers hold.
      times(6, { model: 'fault_pad-32768', client: 'stop-reading', maxTokens: 600, deadlineMs: STALL_DEADLINE_MS }),
      ok(8),
    ), {
      each: (o) => (o.shot.client === 'stop-reading' && o.finished ? 'the client that stopped reading got the whole stream after all: never disconnected' : undefined),
    });
  });
});
