// Fault matrix, upstream faults (issue 8, "Keep proving it"): an upstream that never answers,
// stalls mid-stream, fails with 5xx, resets the connection mid-stream or mid-body, sends malformed
// JSON or SSE, or is slow to its first byte — mixed with normal requests, several at a time, through
// a real Tollgate. Each cell then checks what every cell must hold (support/fault-checks.ts): each
// answered request logged exactly once with the status and error the client saw and the cost of what
// was metered, rollups equal to the logs, slots and reservations released, the budget within its
// cap, no request past its deadline, and a normal request served afterwards.
import { describe, test, before, after, type TestContext } from 'node:test';
import { startGateway, UPSTREAM_KEY, type Gateway } from './support/gateway.ts';
import { startFaultUpstream, type FaultUpstream } from './support/fault-upstream.ts';
import { faultEnv, MARGIN_MS, mix, ok, times, TIMEOUTS, type Outcome, type Shot } from './support/fault-load.ts';
import { openLogStore, runCell, type Expect, type LogStore } from './support/fault-checks.ts';

const FIRST_BYTE = TIMEOUTS.TOLLGATE_UPSTREAM_FIRST_BYTE_TIMEOUT_MS;
const WHOLE = TIMEOUTS.TOLLGATE_UPSTREAM_TIMEOUT_MS;
const MODELS = ['fault', 'fault_hang', 'fault_drip-5_stall-3', 'fault_5xx-500', 'fault_5xx-502', 'fault_5xx-503', 'fault_reset-0', 'fault_reset-4',
  'fault_drip-2_reset-10', 'fault_badjson', 'fault_badsse-3', 'fault_eof-4', 'fault_eof-0', 'fault_slow-400', 'fault_slow-3000', 'fault_slow-5000'];

const both = (n: number, model: string, deadlineMs?: number): Shot[] => mix(
  times(n, { model, client: 'fetch', maxTokens: 16, ...(deadlineMs ? { deadlineMs } : {}) }),
  times(n, { model, client: 'sdk-stream', maxTokens: 16, ...(deadlineMs ? { deadlineMs } : {}) }),
);

/**
 * A cell-specific rule for the requests of one model: the client is told `status` and `code` —
 * as an error event when its stream had already started — within `within` ms if given.
 */
function answers(model: string, status: number, code: string | null, within?: number | ((o: Outcome) => number)): Expect['each'] {
  return (o: Outcome) => {
    if (o.shot.model !== model) return undefined;
    const limit = typeof within === 'function' ? within(o) : within;
    if (limit !== undefined && o.ms > limit) return `answered after ${o.ms} ms, past the ${limit} ms its timeout allows`;
    const seen = `${o.status} ${o.errorCode ?? ''}${o.streamError ? ' (error event)' : ''}`;
    if (o.stream && status >= 400 && o.status === 200) {
      if (!o.streamError) return 'the stream ended without an error event';
      return code === null || o.errorCode === code ? undefined : `expected an error event ${code}, got ${seen}`;
    }
    if (o.status !== status || (code !== null && o.errorCode !== code)) return `expected ${status} ${code ?? ''}, got ${seen}`;
    return undefined;
  };
}
const all = (...rules: Array<Expect['each']>): Expect['each'] => (o, row) => rules.map((r) => r?.(o, row)).find((x) => x !== undefined);

describe('fault matrix: upstream faults', () => {
  let fault: FaultUpstream;
  let gw: Gateway;
  let store: LogStore;
  before(async () => {
    // Every request sets max_tokens, which caps the fake's otherwise long replies.
    fault = await startFaultUpstream({ requireAuth: UPSTREAM_KEY, completionTokens: 4096 });
    gw = await startGateway({ fake: fault, env: faultEnv(MODELS) });
    store = openLogStore(gw.runtime.deps.config.databaseUrl);
  });
  after(async () => {
    await gw?.close();
    await fault?.close();
  });

  const cell = (t: TestContext, name: string, shots: Shot[], expect: Expect = {}): Promise<void> => runCell(t, { gw, store, fault }, name, shots, expect);

  test('times out: no response head → 504 upstream_timeout (streams within the first-byte timeout, whole answers within the full one); silence mid-stream → an error event', async (t) => {
    const streamDeadline = FIRST_BYTE + MARGIN_MS;
    const wholeDeadline = WHOLE + MARGIN_MS;
    await cell(t, 'timeout', mix(
      times(8, { model: 'fault_hang', client: 'fetch', maxTokens: 16, deadlineMs: wholeDeadline }),
      times(8, { model: 'fault_hang', client: 'sdk-stream', maxTokens: 16, deadlineMs: streamDeadline }),
      times(8, { model: 'fault_drip-5_stall-3', client: 'sdk-stream', maxTokens: 16, deadlineMs: streamDeadline }),
      ok(6),
    ), {
      each: all(
        answers('fault_hang', 504, 'upstream_timeout', (o) => (o.stream ? streamDeadline : wholeDeadline)),
        answers('fault_drip-5_stall-3', 504, 'upstream_timeout', streamDeadline),
      ),
    });
  });

  test('5xx with an OpenAI error body → 502 upstream_error naming the upstream status, logged with it, costing nothing', async (t) => {
    await cell(t, '5xx', mix(both(6, 'fault_5xx-500'), both(6, 'fault_5xx-502'), both(6, 'fault_5xx-503'), ok(8)), {
      each: all(answers('fault_5xx-500', 502, 'upstream_error'), answers('fault_5xx-502', 502, 'upstream_error'), answers('fault_5xx-503', 502, 'upstream_error')),
    });
  });

  test('connection reset mid-stream (and mid-body, and right after the head) → an error event or a 502, logged as failed with what was metered', async (t) => {
    const reset = (model: string, n: number, includeUsage: boolean) => times(n, { model, client: 'sdk-stream', maxTokens: 16, includeUsage });
    await cell(t, 'reset', mix(reset('fault_reset-4', 8, true), reset('fault_reset-4', 8, false), reset('fault_drip-2_reset-10', 8, false), reset('fault_reset-0', 4, false),
      times(8, { model: 'fault_reset-4', client: 'fetch', maxTokens: 16 }), ok(8)), {
      each: all(answers('fault_reset-4', 502, 'upstream_error'), answers('fault_drip-2_reset-10', 502, null), answers('fault_reset-0', 502, null)),
    });
  });

  test('malformed JSON body with status 200 → a 502 in OpenAI shape, not the broken body', async (t) => {
    await cell(t, 'badjson', mix(times(16, { model: 'fault_badjson', client: 'fetch', maxTokens: 16 }), ok(8)), {
      each: answers('fault_badjson', 502, 'upstream_error'),
    });
  });

  test('malformed SSE: a non-JSON event is relayed and the usage after it still metered; a stream cut mid-event without [DONE] ends with an error event', async (t) => {
    await cell(t, 'badsse', mix(
      times(8, { model: 'fault_badsse-3', client: 'raw-stream', maxTokens: 16 }),
      times(8, { model: 'fault_badsse-3', client: 'raw-stream', maxTokens: 16, includeUsage: true }),
      times(10, { model: 'fault_eof-4', client: 'sdk-stream', maxTokens: 16 }),
      times(4, { model: 'fault_eof-0', client: 'sdk-stream', maxTokens: 16 }),
      ok(8),
    ), {
      each: all(answers('fault_badsse-3', 200, null), answers('fault_eof-4', 502, null), answers('fault_eof-0', 502, null),
        (o) => (o.shot.model === 'fault_badsse-3' && !o.finished ? 'the stream around the malformed event did not reach [DONE]' : undefined)),
    });
  });

  test('slow first byte: under the timeout → answered in full; over it → 504 upstream_timeout within it (streams: the first-byte timeout, whole answers: the full one)', async (t) => {
    await cell(t, 'slow', mix(
      both(8, 'fault_slow-400'),
      times(4, { model: 'fault_slow-3000', client: 'sdk-stream', maxTokens: 16, deadlineMs: FIRST_BYTE + MARGIN_MS }),
      times(4, { model: 'fault_slow-5000', client: 'fetch', maxTokens: 16, deadlineMs: WHOLE + MARGIN_MS }),
      ok(6),
    ), {
      each: all(answers('fault_slow-400', 200, null), answers('fault_slow-3000', 504, 'upstream_timeout', FIRST_BYTE + MARGIN_MS),
        answers('fault_slow-5000', 504, 'upstream_timeout', WHOLE + MARGIN_MS)),
    });
  });
});
