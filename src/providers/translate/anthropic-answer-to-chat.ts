// An Anthropic message answer as an OpenAI chat.completion, and the stop reason and usage
// mappings the stream translation shares.
import type { MappedAnswer, Usage } from '../types.ts';
import { usageOfAnthropic } from './anthropic-usage.ts';
import { isObject, parseObject, type Json } from './sse.ts';

/** Anthropic stop_reason → OpenAI finish_reason. */
export function finishReason(stop: unknown): string {
  if (stop === 'max_tokens' || stop === 'model_context_window_exceeded') return 'length';
  if (stop === 'tool_use') return 'tool_calls';
  if (stop === 'refusal') return 'content_filter';
  return 'stop'; // end_turn, stop_sequence, pause_turn
}

/** Tollgate usage → OpenAI's usage object (prompt_tokens counts the cached part too, as OpenAI's does). */
export function openaiUsage(u: Usage): Json {
  return {
    prompt_tokens: u.tokensIn,
    completion_tokens: u.tokensOut,
    total_tokens: u.tokensIn + u.tokensOut,
    prompt_tokens_details: { cached_tokens: u.cachedTokens ?? 0 },
  };
}

/** chat.completion ids are chatcmpl-…; Anthropic's msg_… id is kept after it. */
export const completionId = (id: unknown): string => `chatcmpl-${typeof id === 'string' && id ? id.replace(/^msg_/, '') : Date.now().toString(36)}`;

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export function anthropicAnswerToChat(buf: Buffer, model: string): MappedAnswer | undefined {
  const json = parseObject(buf);
  if (!json || !Array.isArray(json.content)) return undefined;
  let text = '';
  const toolCalls: Json[] = [];
  for (const b of json.content) {
    if (!isObject(b)) continue;
    if (b.type === 'text' && typeof b.text === 'string') text += b.text;
    else if (b.type === 'tool_use') {
      toolCalls.push({ id: String(b.id ?? ''), type: 'function', function: { name: String(b.name ?? ''), arguments: JSON.stringify(b.input ?? {}) } });
    }
    // thinking blocks: OpenAI's chat format has no place for them
  }
  const message: Json = { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text, refusal: null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const usage = usageOfAnthropic(json.usage);
  const answer: Json = {
    id: completionId(json.id),
    object: 'chat.completion',
    created: nowSeconds(),
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(json.stop_reason) }],
  };
  if (usage) answer.usage = openaiUsage(usage);
  return { body: JSON.stringify(answer), usage };
}
