// The Anthropic Messages API (/v1/messages, /v1/messages/count_tokens) served by a provider that
// speaks OpenAI's Chat Completions: the request, the JSON answer and the stream are translated
// (see the three modules below); count_tokens is estimated locally (count-tokens.ts).
import type { Exchange, ExchangeInput, StreamMeter, Usage } from '../types.ts';
import { anthropicRequestToChat, type ChatDialect } from './anthropic-request-to-chat.ts';
import { chatAnswerToAnthropic } from './chat-answer-to-anthropic.ts';
import { ChatToAnthropicStream } from './chat-stream-to-anthropic.ts';
import { estimateInputTokens } from './count-tokens.ts';

export type { ChatDialect } from './anthropic-request-to-chat.ts';

/**
 * /v1/messages to an OpenAI-compatible provider: `chatPath` is its chat endpoint (e.g.
 * /chat/completions); `dialect` what this provider reads differently (OpenAI and Azure:
 * `{ maxCompletionTokens: true }`).
 */
export function messagesViaChat(input: ExchangeInput, chatPath: string, headers: Record<string, string>, dialect: ChatDialect = {}): Exchange {
  const body = anthropicRequestToChat(input.body, input.route.upstreamModel, input.stream, dialect);
  const model = input.model;
  return {
    path: chatPath,
    headers,
    body: JSON.stringify(body),
    stream: input.stream,
    meter: new ChatToAnthropicStream(model, input.promptEstimate),
    mapJson: (buf) => chatAnswerToAnthropic(buf, model),
  };
}

const FREE: Usage = { tokensIn: 0, tokensOut: 0 };

/** A meter for an exchange that never streams. */
const NO_STREAM: StreamMeter = { onEvent: () => true, completed: false, result: () => ({ usage: FREE, estimated: false }) };

/**
 * /v1/messages/count_tokens for a provider without it: answered locally with an estimate, in
 * Anthropic's shape `{ "input_tokens": n }`. Counting is free (usage 0), and still logged.
 */
export function countTokensLocally(input: ExchangeInput): Exchange {
  const body = JSON.stringify({ input_tokens: estimateInputTokens(input.body) });
  return {
    path: '',
    headers: {},
    body: '',
    stream: false,
    meter: NO_STREAM,
    mapJson: () => undefined,
    local: { status: 200, body, usage: FREE },
  };
}
