// The OpenAI Responses API (POST /v1/responses, what Codex CLI speaks), passed through as is:
// only `model` is mapped. Usage is read from the answer's `usage` object
//   { input_tokens, input_tokens_details: { cached_tokens }, output_tokens,
//     output_tokens_details: { reasoning_tokens }, total_tokens }
// and from a stream's terminal event (response.completed | response.incomplete | response.failed,
// each carrying the whole response with its usage; there is no `data: [DONE]`).
// https://platform.openai.com/docs/api-reference/responses-streaming
import type { Exchange, ExchangeInput, MappedAnswer, StreamMeter, Usage } from '../types.ts';
import { count, dataStart, objectUnder } from './json-bytes.ts';

const USAGE = Buffer.from('"usage"');
const TYPE = Buffer.from('"type"');
const EVENT = Buffer.from('event:');
const DELTA = Buffer.from('.delta');
const TERMINAL = ['response.completed', 'response.incomplete', 'response.failed'].map((n) => Buffer.from(n));
// the longest event name the meter compares against (response.output_text.delta and friends are
// matched on their `.delta` tail; the terminal names are shorter than this)
const NAME_MAX = 64;

/** Usage in the Responses API's names; undefined when the object is not one. */
export function responsesUsage(u: Record<string, unknown>): Usage | undefined {
  if (typeof u.input_tokens !== 'number') return undefined;
  const cached = count((u.input_tokens_details as Record<string, unknown> | null | undefined)?.cached_tokens);
  const reasoning = count((u.output_tokens_details as Record<string, unknown> | null | undefined)?.reasoning_tokens);
  const usage: Usage = { tokensIn: count(u.input_tokens), tokensOut: count(u.output_tokens) };
  if (cached > 0 || reasoning > 0) Object.assign(usage, { cachedTokens: cached, reasoningTokens: reasoning });
  return usage;
}

/** The body sent upstream: the client's bytes, unless the model name must change. */
export function responsesBody(input: ExchangeInput, model = input.route.upstreamModel): string | Buffer {
  return input.body.model === model ? input.raw : JSON.stringify({ ...input.body, model });
}

/** A whole Responses answer: relayed as is, usage read from its `usage` object. */
export function mapResponsesJson(buf: Buffer): MappedAnswer | undefined {
  const usage = objectUnder(buf, USAGE, responsesUsage);
  if (usage) return { body: buf, usage };
  // No usage: still a response object? (else the upstream answered something else: malformed)
  try {
    const json = JSON.parse(buf.toString('utf8')) as { object?: unknown } | null;
    return json && typeof json === 'object' && json.object === 'response' ? { body: buf, usage: undefined } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where the event's name lies: its `event:` line, or else the `"type"` string its data starts with
 * (servers that send data lines only). [start, end) of the name's bytes, or undefined.
 */
export function eventName(event: Buffer): [start: number, end: number] | undefined {
  if (event.length >= EVENT.length && event.compare(EVENT, 0, EVENT.length, 0, EVENT.length) === 0) {
    let from = EVENT.length;
    if (event[from] === 32) from++;
    let nl = event.indexOf(10, from);
    if (nl === -1) nl = event.length;
    while (nl > from && (event[nl - 1] === 32 || event[nl - 1] === 13)) nl--;
    return [from, nl];
  }
  const data = dataStart(event);
  if (data === -1) return undefined;
  const t = event.indexOf(TYPE, data);
  if (t === -1 || t > data + NAME_MAX) return undefined;
  const open = event.indexOf(34, t + TYPE.length);
  const close = open === -1 ? -1 : event.indexOf(34, open + 1);
  return close === -1 || close - open > NAME_MAX ? undefined : [open + 1, close];
}

const is = (event: Buffer, [start, end]: [number, number], name: Buffer) => end - start === name.length && event.compare(name, 0, name.length, start, end) === 0;

/**
 * Meters a Responses stream: the event name is read on the bytes; only the terminal event (which
 * carries usage) has its usage object parsed; `*.delta` events are counted for the estimate when
 * the stream ends early (about one token each, as OpenAI streams them).
 */
export class ResponsesStreamMeter implements StreamMeter {
  completed = false;
  private usage: Usage | undefined;
  private deltas = 0;
  private readonly promptEstimate: number;

  constructor(promptEstimate: number) {
    this.promptEstimate = promptEstimate;
  }

  onEvent(event: Buffer): boolean {
    // Compared on the bytes: no string is made for an event (deltas are most of a stream).
    const name = eventName(event);
    if (name === undefined) return true;
    const [start, end] = name;
    if (end - start > DELTA.length && event.compare(DELTA, 0, DELTA.length, end - DELTA.length, end) === 0) {
      this.deltas++;
    } else if (TERMINAL.some((t) => is(event, name, t))) {
      this.usage = objectUnder(event, USAGE, responsesUsage) ?? this.usage;
      this.completed = true;
    }
    return true;
  }

  result(): { usage: Usage; estimated: boolean } {
    if (this.usage) return { usage: this.usage, estimated: false };
    return { usage: { tokensIn: this.promptEstimate, tokensOut: this.deltas }, estimated: true };
  }
}

/** One Responses API attempt at `path` (OpenAI's `/responses`, Azure's `/openai/v1/responses`). */
export function responsesExchange(input: ExchangeInput, path: string, headers: Record<string, string>): Exchange {
  return {
    path, headers, body: responsesBody(input), stream: input.stream,
    meter: new ResponsesStreamMeter(input.promptEstimate), mapJson: mapResponsesJson,
  };
}
