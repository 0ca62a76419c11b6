// OpenAI itself: the OpenAI-compatible base, plus the Responses API passed through (Codex CLI).
import type { Exchange, ExchangeInput } from '../types.ts';
import { OpenAICompatibleAdapter } from '../openai-compatible/adapter.ts';
import type { ChatDialect } from '../translate/anthropic-request-to-chat.ts';
import { responsesExchange } from './responses.ts';

export class OpenAIAdapter extends OpenAICompatibleAdapter {
  // Claude Code's Messages translated to chat: OpenAI's reasoning models refuse max_tokens.
  protected override readonly chatDialect: ChatDialect = { maxCompletionTokens: true };

  constructor() {
    super('openai');
  }

  protected override responses(input: ExchangeInput): Exchange {
    return responsesExchange(input, this.path('responses', input.route), this.headers(input.route));
  }
}
