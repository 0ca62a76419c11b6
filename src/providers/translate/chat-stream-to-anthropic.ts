// An OpenAI chat.completion.chunk stream rewritten, event by event, as Anthropic's Messages event
// sequence (https://docs.anthropic.com/en/api/messages-streaming):
//
//   first chunk        → message_start
//   delta.content      → [content_block_stop] content_block_start(text) … content_block_delta(text_delta)
//   delta.tool_calls   → [content_block_stop] content_block_start(tool_use) … content_block_delta(input_json_delta)
//   finish_reason      → content_block_stop (the stop reason is kept for message_delta)
//   usage chunk        → message_delta(stop_reason, usage)
//   [DONE]             → [message_delta] message_stop   (the completing event)
//
// Nothing is buffered: each upstream event becomes zero or more Anthropic events at once.
import type { StreamMeter, Usage } from '../types.ts';
import { anthropicUsage, chatUsage, messageId, stopReason } from './chat-answer-to-anthropic.ts';
import { eventData, eventJson, isObject, namedEvent, type Json } from './sse.ts';

export class ChatToAnthropicStream implements StreamMeter {
  completed = false;
  private started = false;
  private usage: Usage | undefined;
  private stop: string | undefined;
  private deltaSent = false;
  /** the Anthropic content block open now (-1: none), the next block's index, and the open text block (-1: none) */
  private open = -1;
  private nextBlock = 0;
  private textBlock = -1;
  /** OpenAI tool call index → Anthropic block index */
  private readonly toolBlocks = new Map<number, number>();
  private contentEvents = 0;
  private readonly model: string;
  private readonly promptEstimate: number;

  constructor(model: string, promptEstimate: number) {
    this.model = model;
    this.promptEstimate = promptEstimate;
  }

  onEvent(event: Buffer): boolean | string {
    const data = eventData(event);
    if (data === undefined) return false; // comments, keep-alives
    if (data.trim() === '[DONE]') {
      this.completed = true;
      return (this.started ? '' : this.start({})) + this.finishDelta() + namedEvent({ type: 'message_stop' });
    }
    const chunk = eventJson(data);
    if (!chunk) return false;
    if (isObject(chunk.error)) {
      const message = typeof chunk.error.message === 'string' ? chunk.error.message : 'The upstream provider failed in the middle of the stream.';
      return namedEvent({ type: 'error', error: { type: 'api_error', message } });
    }
    let out = this.started ? '' : this.start(chunk);
    const choice = Array.isArray(chunk.choices) && isObject(chunk.choices[0]) ? chunk.choices[0] : undefined;
    if (choice) out += this.choice(choice);
    const usage = chatUsage(chunk.usage);
    if (usage) {
      this.usage = usage;
      // The usage chunk follows the finish chunk: the message's end is known.
      if (this.stop !== undefined) out += this.finishDelta();
    }
    return out;
  }

  result(): { usage: Usage; estimated: boolean } {
    if (this.usage) return { usage: this.usage, estimated: false };
    return { usage: { tokensIn: this.promptEstimate, tokensOut: this.contentEvents }, estimated: true };
  }

  private start(chunk: Json): string {
    this.started = true;
    const message = {
      id: messageId(chunk.id), type: 'message', role: 'assistant', model: this.model, content: [],
      stop_reason: null, stop_sequence: null, usage: anthropicUsage(undefined),
    };
    return namedEvent({ type: 'message_start', message });
  }

  private choice(choice: Json): string {
    let out = '';
    const delta = isObject(choice.delta) ? choice.delta : undefined;
    if (delta && typeof delta.content === 'string' && delta.content !== '') {
      this.contentEvents++;
      if (this.textBlock === -1) out += this.openBlock({ type: 'text', text: '' }, true);
      // the most frequent event: written without building its object
      out += `event: content_block_delta\ndata: {"type":"content_block_delta","index":${this.textBlock},"delta":{"type":"text_delta","text":${JSON.stringify(delta.content)}}}\n\n`;
    }
    if (delta && Array.isArray(delta.tool_calls)) {
      for (const call of delta.tool_calls) if (isObject(call)) out += this.toolDelta(call);
    }
    if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
      this.stop = stopReason(choice.finish_reason);
      out += this.closeBlock();
    }
    return out;
  }

  // OpenAI streams parallel tool calls one after the other (each call's arguments before the next
  // call starts), which is the order Anthropic's blocks need: a call's first delta closes the
  // block before it.
  private toolDelta(call: Json): string {
    let out = '';
    const index = typeof call.index === 'number' ? call.index : 0;
    const fn = isObject(call.function) ? call.function : {};
    let block = this.toolBlocks.get(index);
    if (block === undefined) {
      // A new call: its first delta carries its id and name.
      out += this.openBlock({ type: 'tool_use', id: String(call.id ?? `toolu_${index}`), name: String(fn.name ?? ''), input: {} }, false);
      block = this.open;
      this.toolBlocks.set(index, block);
    }
    if (typeof fn.arguments === 'string' && fn.arguments !== '') {
      this.contentEvents++;
      out += namedEvent({ type: 'content_block_delta', index: block, delta: { type: 'input_json_delta', partial_json: fn.arguments } });
    }
    return out;
  }

  private openBlock(contentBlock: Json, text: boolean): string {
    const out = this.closeBlock();
    this.open = this.nextBlock++;
    if (text) this.textBlock = this.open;
    return out + namedEvent({ type: 'content_block_start', index: this.open, content_block: contentBlock });
  }

  private closeBlock(): string {
    if (this.open === -1) return '';
    const index = this.open;
    this.open = -1;
    this.textBlock = -1;
    return namedEvent({ type: 'content_block_stop', index });
  }

  /** message_delta, once: the stop reason and the usage (reported, or estimated from what was seen). */
  private finishDelta(): string {
    if (this.deltaSent) return '';
    this.deltaSent = true;
    const { usage } = this.result();
    const u = anthropicUsage(usage);
    return this.closeBlock() + namedEvent({ type: 'message_delta', delta: { stop_reason: this.stop ?? 'end_turn', stop_sequence: null }, usage: u });
  }
}
