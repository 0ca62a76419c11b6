// An Anthropic Messages stream (https://docs.anthropic.com/en/api/messages-streaming) rewritten,
// event by event, as OpenAI chat.completion.chunk events:
//
//   message_start                         → role chunk (delta { role, content: "" })
//   content_block_start(tool_use)         → tool call chunk (index, id, function.name, arguments "")
//   content_block_delta(text_delta)       → content chunk
//   content_block_delta(input_json_delta) → tool call chunk (index, arguments piece)
//   message_delta                         → finish_reason chunk [+ usage chunk if include_usage]
//   message_stop                          → data: [DONE]   (the completing event)
//   ping, content_block_stop, thinking    → dropped
//   error                                 → an OpenAI error event
//
// Nothing is buffered: each upstream event becomes zero or more chunks at once.
import type { StreamMeter, Usage } from '../types.ts';
import { completionId, finishReason, nowSeconds, openaiUsage } from './anthropic-answer-to-chat.ts';
import { AnthropicUsageTracker } from './anthropic-usage.ts';
import { dataEvent, DONE_EVENT, eventData, eventJson, isObject, type Json } from './sse.ts';

export class AnthropicToChatStream implements StreamMeter {
  completed = false;
  private readonly usage = new AnthropicUsageTracker();
  private id = completionId(undefined);
  private readonly created = nowSeconds();
  /** Anthropic content block index → OpenAI tool call index */
  private readonly tools = new Map<number, number>();
  private readonly model: string;
  private readonly includeUsage: boolean;
  private readonly promptEstimate: number;

  constructor(model: string, includeUsage: boolean, promptEstimate: number) {
    this.model = model;
    this.includeUsage = includeUsage;
    this.promptEstimate = promptEstimate;
  }

  onEvent(event: Buffer): boolean | string {
    const e = eventJson(eventData(event));
    if (!e) return false;
    switch (e.type) {
      case 'message_start': {
        const message = isObject(e.message) ? e.message : {};
        this.id = completionId(message.id);
        this.prefix = undefined;
        this.usage.onStart(message);
        return this.chunk({ role: 'assistant', content: '' }, null);
      }
      case 'content_block_start': {
        const block = isObject(e.content_block) ? e.content_block : {};
        if (block.type !== 'tool_use' || typeof e.index !== 'number') return false;
        const index = this.tools.size;
        this.tools.set(e.index, index);
        return this.chunk({ tool_calls: [{ index, id: String(block.id ?? ''), type: 'function', function: { name: String(block.name ?? ''), arguments: '' } }] }, null);
      }
      case 'content_block_delta': {
        const delta = isObject(e.delta) ? e.delta : {};
        if (delta.type === 'text_delta' && typeof delta.text === 'string') {
          this.usage.deltas++;
          return this.chunk({ content: delta.text }, null);
        }
        if (delta.type === 'input_json_delta' && typeof delta.partial_json === 'string' && typeof e.index === 'number') {
          const index = this.tools.get(e.index);
          if (index === undefined) return false;
          this.usage.deltas++;
          return this.chunk({ tool_calls: [{ index, function: { arguments: delta.partial_json } }] }, null);
        }
        return false; // thinking_delta, signature_delta, citations
      }
      case 'message_delta': {
        this.usage.onDelta(e.usage);
        const delta = isObject(e.delta) ? e.delta : {};
        let out = this.chunk({}, finishReason(delta.stop_reason));
        if (this.includeUsage) out += dataEvent({ ...this.head(), choices: [], usage: openaiUsage(this.result().usage) });
        return out;
      }
      case 'message_stop':
        this.completed = true;
        return DONE_EVENT;
      case 'error': {
        const err = isObject(e.error) ? e.error : {};
        const message = typeof err.message === 'string' ? err.message : 'The upstream provider failed in the middle of the stream.';
        return dataEvent({ error: { message, type: 'upstream_error', param: null, code: 'upstream_error' } });
      }
      default:
        return false; // ping, content_block_stop
    }
  }

  result(): { usage: Usage; estimated: boolean } {
    return this.usage.result(this.promptEstimate);
  }

  private head(): Json {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model };
  }

  /** Every chunk starts alike: its JSON up to the delta is built once per stream (the id is set at message_start). */
  private prefix: string | undefined;

  private chunk(delta: Json, finish: string | null): string {
    this.prefix ??= `data: ${JSON.stringify(this.head()).slice(0, -1)},"choices":[{"index":0,"delta":`;
    return `${this.prefix}${JSON.stringify(delta)},"logprobs":null,"finish_reason":${finish === null ? 'null' : JSON.stringify(finish)}}]}\n\n`;
  }
}
