// A stream's SSE events, on their bytes (forward.ts relays them): complete events are found with a
// byte search, handed to the meter, and returned as slices of the upstream's own buffers (no
// decoding, no re-encoding). What the meter drops (the usage chunk the client did not ask for) or
// replaces (a translation) is not relayed as is, and the completing event is held back until the
// request is settled and logged (forward.ts finish()).
import type { StreamMeter } from '../providers/types.ts';

export class SseEvents {
  /** the stream's completing event (as the meter returned it), held back until the request is settled and logged */
  held: Buffer | string | undefined;
  /** bytes of a partial event waiting for its end */
  pendingBytes = 0;
  private pending: Buffer[] = [];
  private readonly meter: StreamMeter;

  constructor(meter: StreamMeter) {
    this.meter = meter;
  }

  /**
   * The pieces of `chunk` to relay, its complete events metered. A partial event waits for its
   * end: its chunks are only joined once one could complete it (so a long event costs one copy,
   * not one per chunk). CRLF streams are normalized to LF first.
   */
  take(chunk: Buffer): Array<Buffer | string> {
    if (this.pendingBytes > 0 && !mayEndEvent(this.pending[this.pending.length - 1]!, chunk)) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      return NONE;
    }
    let buf = this.pendingBytes > 0 ? Buffer.concat([...this.pending, chunk]) : chunk;
    if (buf.includes(CR)) buf = Buffer.from(buf.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    const out: Array<Buffer | string> = [];
    let start = 0;
    let keptFrom = 0;
    let cut: number;
    while ((cut = buf.indexOf(EVENT_END, start)) !== -1) {
      const end = cut + 2;
      const wasComplete = this.meter.completed;
      // Not relayed as is: what the meter drops or replaces, and the completing event (held).
      const keep = this.meter.onEvent(buf.subarray(start, cut));
      const completes = keep !== false && !wasComplete && this.meter.completed;
      if (keep !== true || completes) {
        if (start > keptFrom) out.push(buf.subarray(keptFrom, start));
        keptFrom = end;
        if (completes) this.held = keep === true ? buf.subarray(start, end) : keep;
        else if (typeof keep === 'string') out.push(keep);
      }
      start = end;
    }
    if (start > keptFrom) out.push(buf.subarray(keptFrom, start));
    if (start < buf.length) {
      this.pending = [buf.subarray(start)];
      this.pendingBytes = buf.length - start;
    } else if (this.pendingBytes > 0) {
      this.pending = [];
      this.pendingBytes = 0;
    }
    return out;
  }

  /**
   * The upstream ended. An event it did not terminate is never relayed (SSE clients discard it, and
   * an error event written after it would merge into it); it is still metered, for a final [DONE]
   * or usage sent without the closing blank line.
   */
  end(): void {
    const rest = this.pendingBytes > 0 ? Buffer.concat(this.pending) : undefined;
    if (!rest || !rest.toString('latin1').trim()) return;
    const wasComplete = this.meter.completed;
    const keep = this.meter.onEvent(rest);
    if (!wasComplete && this.meter.completed && keep !== false) this.held = keep === true ? rest.toString('utf8').trimEnd() + '\n\n' : keep;
  }

  /** Forgets the partial event (an answer too large to buffer). */
  drop(): void {
    this.pending = [];
    this.pendingBytes = 0;
  }
}

const EVENT_END = Buffer.from('\n\n');
const LF_LF = EVENT_END;
const LF_CR_LF = Buffer.from('\n\r\n');
const LF = 10;
const NONE: Array<Buffer | string> = [];

/**
 * Whether `chunk`, following a partial event that ends with `prev`, may complete it ("\n\n" or
 * "\r\n\r\n", possibly split across the two). Errs towards yes: a yes only costs a join.
 */
function mayEndEvent(prev: Buffer, chunk: Buffer): boolean {
  const last = prev[prev.length - 1];
  const first = chunk[0];
  if (last === LF && (first === LF || first === CR)) return true;
  if (last === CR && first === LF) return true;
  return chunk.includes(LF_LF) || chunk.includes(LF_CR_LF);
}
const CR = 13;
