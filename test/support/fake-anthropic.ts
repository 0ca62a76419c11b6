// POST /v1/messages of the fake upstream: Anthropic's Messages API, non-streaming and the real
// streaming event sequence (https://docs.anthropic.com/en/api/messages-streaming).
import { completionTokens, generated, promptTokens, replyPieces, rid, send, stream, wantsUsage } from './fake-kit.ts';
import type { Ctx, Frame } from './fake-kit.ts';
import type { FakeRoute } from './fake-upstream.ts';

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error',
  413: 'request_too_large', 429: 'rate_limit_error', 500: 'api_error', 529: 'overloaded_error',
};

export function anthropicError(ctx: Ctx, status: number, message: string): void {
  const type = ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
  send(ctx, status, { type: 'error', error: { type, message } });
}

export async function anthropicMessages(ctx: Ctx): Promise<void> {
  const b = ctx.body;
  // The real API rejects these, so a gateway that forgets to forward them must fail here too.
  if (!ctx.req.headers['anthropic-version']) return anthropicError(ctx, 400, 'anthropic-version: header is required');
  if (!ctx.model) return anthropicError(ctx, 400, 'model: Field required');
  if (typeof b.max_tokens !== 'number') return anthropicError(ctx, 400, 'max_tokens: Field required');
  if (!Array.isArray(b.messages)) return anthropicError(ctx, 400, 'messages: Field required');

  const input = promptTokens(b.messages, b.system);
  const n = completionTokens(b, generated(ctx));
  const stop_reason = n < generated(ctx) ? 'max_tokens' : 'end_turn';
  const withUsage = wantsUsage(ctx);
  const usage = (output: number) => ({ input_tokens: input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: output });
  const message = { id: rid('msg_'), type: 'message', role: 'assistant', model: ctx.model };

  if (b.stream !== true) {
    const content = [{ type: 'text', text: replyPieces(n).join('') }];
    const body = { ...message, content, stop_reason, stop_sequence: null, ...(withUsage ? { usage: usage(n) } : {}) };
    return send(ctx, 200, body, withUsage ? [input, n, true] : undefined);
  }
  // message_start reports input_tokens and a provisional output_tokens of 1; message_delta reports the
  // cumulative final output_tokens. usageTotals follow what was sent: +1 at start, +(n-1) at the delta.
  const frames: Frame[] = [
    {
      event: 'message_start',
      data: { type: 'message_start', message: { ...message, content: [], stop_reason: null, stop_sequence: null, ...(withUsage ? { usage: usage(1) } : {}) } },
      ...(withUsage ? { usage: [input, 1, true] as Frame['usage'] } : {}),
    },
    { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
    { event: 'ping', data: { type: 'ping' } },
    ...replyPieces(n).map((text) => ({ event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } } })),
    { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
    {
      event: 'message_delta',
      data: { type: 'message_delta', delta: { stop_reason, stop_sequence: null }, ...(withUsage ? { usage: { output_tokens: n } } : {}) },
      ...(withUsage ? { usage: [0, n - 1, false] as Frame['usage'] } : {}),
    },
    { event: 'message_stop', data: { type: 'message_stop' } },
  ];
  return stream(ctx, frames);
}

/** More Anthropic endpoints than /v1/messages (POST /v1/messages/count_tokens …). */
export const anthropicRoutes: FakeRoute[] = [];
