// OpenAI Chat Completions (/v1/chat/completions) served by Anthropic's Messages API: the request,
// the JSON answer and the stream are translated (see the three modules below).
import type { Exchange, ExchangeInput } from '../types.ts';
import { anthropicAnswerToChat } from './anthropic-answer-to-chat.ts';
import { AnthropicToChatStream } from './anthropic-stream-to-chat.ts';
import { chatRequestToAnthropic } from './chat-request-to-anthropic.ts';
import { isObject } from './sse.ts';

/** `messagesPath` is the provider's Messages endpoint relative to its base URL (e.g. /messages). */
export function chatViaMessages(input: ExchangeInput, messagesPath: string, headers: Record<string, string>): Exchange {
  const body = chatRequestToAnthropic(input.body, input.route, input.stream);
  const opts = input.body.stream_options;
  const includeUsage = isObject(opts) && opts.include_usage === true;
  const model = input.model;
  return {
    path: messagesPath,
    headers,
    body: JSON.stringify(body),
    stream: input.stream,
    meter: new AnthropicToChatStream(model, includeUsage, input.promptEstimate),
    mapJson: (buf) => anthropicAnswerToChat(buf, model),
  };
}
