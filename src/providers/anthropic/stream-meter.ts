// Meters a native Anthropic Messages stream as it is relayed untouched. Events are told apart by
// their `event:` line on the bytes; only message_start and message_delta (one each per stream)
// are decoded, for their usage. message_stop completes the stream.
import type { StreamMeter, Usage } from '../types.ts';
import { AnthropicUsageTracker } from '../translate/anthropic-usage.ts';
import { eventData, eventJson } from '../translate/sse.ts';

const DELTA = Buffer.from('event: content_block_delta\n');
const START = Buffer.from('event: message_start\n');
const MESSAGE_DELTA = Buffer.from('event: message_delta\n');
const STOP = Buffer.from('event: message_stop');
const EVENT = Buffer.from('event:');

const startsWith = (event: Buffer, prefix: Buffer): boolean => event.length >= prefix.length && event.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;

export class AnthropicStreamMeter implements StreamMeter {
  completed = false;
  private readonly usage = new AnthropicUsageTracker();
  private readonly promptEstimate: number;

  constructor(promptEstimate: number) {
    this.promptEstimate = promptEstimate;
  }

  onEvent(event: Buffer): true {
    if (startsWith(event, DELTA)) this.usage.deltas++;
    else if (startsWith(event, START)) this.usage.onStart(eventJson(eventData(event))?.message);
    else if (startsWith(event, MESSAGE_DELTA)) this.usage.onDelta(eventJson(eventData(event))?.usage);
    else if (startsWith(event, STOP)) this.completed = true;
    else if (!startsWith(event, EVENT)) this.untyped(event);
    return true;
  }

  /** An event without an `event:` line (not what Anthropic sends, but valid SSE): its data names its type. */
  private untyped(event: Buffer): void {
    const e = eventJson(eventData(event));
    if (!e) return;
    if (e.type === 'content_block_delta') this.usage.deltas++;
    else if (e.type === 'message_start') this.usage.onStart(e.message);
    else if (e.type === 'message_delta') this.usage.onDelta(e.usage);
    else if (e.type === 'message_stop') this.completed = true;
  }

  result(): { usage: Usage; estimated: boolean } {
    return this.usage.result(this.promptEstimate);
  }
}
