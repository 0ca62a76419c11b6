// Anthropic Messages (POST /v1/messages) as Anthropic answers it: a `message` object, or the
// event sequence message_start, content_block_start, ping, content_block_delta × n,
// content_block_stop, message_delta (stop_reason, output usage), message_stop.
// https://docs.anthropic.com/en/docs/build-with-claude/streaming
import { COMPLETION_TOKENS, PROMPT_TOKENS, WORDS, pieces, sse } from './canned.ts';

const MODEL = 'claude-sonnet-4-5';
const usage = { input_tokens: PROMPT_TOKENS, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: COMPLETION_TOKENS };

export const messageJson = Buffer.from(
  JSON.stringify({
    id: 'msg_bench', type: 'message', role: 'assistant', model: MODEL,
    content: [{ type: 'text', text: WORDS }],
    stop_reason: 'end_turn', stop_sequence: null, usage,
  }),
);

export const messageEvents: string[] = [
  sse({ type: 'message_start', message: { id: 'msg_bench', type: 'message', role: 'assistant', model: MODEL, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } }, 'message_start'),
  sse({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, 'content_block_start'),
  sse({ type: 'ping' }, 'ping'),
  ...pieces().map((text) => sse({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }, 'content_block_delta')),
  sse({ type: 'content_block_stop', index: 0 }, 'content_block_stop'),
  sse({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: COMPLETION_TOKENS } }, 'message_delta'),
  sse({ type: 'message_stop' }, 'message_stop'),
];
