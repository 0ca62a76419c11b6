// An OpenAI chat.completion answer as an Anthropic message, and the stop reason and usage
// mappings the stream translation shares.
import type { MappedAnswer, Usage } from '../types.ts';
import { count, isObject, parseObject, type Json } from './sse.ts';

/** OpenAI finish_reason → Anthropic stop_reason. */
export function stopReason(finish: unknown): string {
  if (finish === 'length') return 'max_tokens';
  if (finish === 'tool_calls' || finish === 'function_call') return 'tool_use';
  if (finish === 'content_filter') return 'refusal';
  return 'end_turn';
}

/** OpenAI usage → Tollgate usage (undefined when the provider reported none). */
export function chatUsage(u: unknown): Usage | undefined {
  if (!isObject(u) || typeof u.prompt_tokens !== 'number') return undefined;
  const usage: Usage = { tokensIn: count(u.prompt_tokens), tokensOut: count(u.completion_tokens) };
  const cached = isObject(u.prompt_tokens_details) ? count(u.prompt_tokens_details.cached_tokens) : 0;
  const reasoning = isObject(u.completion_tokens_details) ? count(u.completion_tokens_details.reasoning_tokens) : 0;
  if (cached > 0) usage.cachedTokens = cached;
  if (reasoning > 0) usage.reasoningTokens = reasoning;
  return usage;
}

/** Tollgate usage → Anthropic's usage object (its input_tokens exclude cache reads). */
export function anthropicUsage(u: Usage | undefined): Json {
  const cached = u?.cachedTokens ?? 0;
  return { input_tokens: (u?.tokensIn ?? 0) - cached, cache_creation_input_tokens: 0, cache_read_input_tokens: cached, output_tokens: u?.tokensOut ?? 0 };
}

/** A tool call's arguments as the object Anthropic's tool_use.input is (a broken string: {}). */
export function toolInput(args: unknown): unknown {
  if (typeof args !== 'string' || args === '') return {};
  try {
    const v: unknown = JSON.parse(args);
    return isObject(v) ? v : {};
  } catch {
    return {};
  }
}

/** Anthropic message ids start with msg_; the provider's id is kept after it. */
export const messageId = (id: unknown): string => `msg_${typeof id === 'string' && id ? id.replace(/^chatcmpl-/, '') : Date.now().toString(36)}`;

export function chatAnswerToAnthropic(buf: Buffer, model: string): MappedAnswer | undefined {
  const json = parseObject(buf);
  const choice = json && Array.isArray(json.choices) && isObject(json.choices[0]) ? json.choices[0] : undefined;
  if (!json || !choice || !isObject(choice.message)) return undefined;
  const msg = choice.message;
  const content: Json[] = [];
  if (typeof msg.content === 'string' && msg.content !== '') content.push({ type: 'text', text: msg.content });
  if (Array.isArray(msg.tool_calls)) {
    for (const call of msg.tool_calls) {
      if (!isObject(call) || !isObject(call.function)) continue;
      content.push({ type: 'tool_use', id: String(call.id ?? ''), name: String(call.function.name ?? ''), input: toolInput(call.function.arguments) });
    }
  }
  const usage = chatUsage(json.usage);
  const message = {
    id: messageId(json.id),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason(choice.finish_reason),
    stop_sequence: null,
    usage: anthropicUsage(usage),
  };
  return { body: JSON.stringify(message), usage };
}
