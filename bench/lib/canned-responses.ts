// The OpenAI Responses API (POST /v1/responses) as OpenAI answers it: a `response` object, or the
// event sequence response.created, response.in_progress, response.output_item.added,
// response.content_part.added, response.output_text.delta × n, response.output_text.done,
// response.content_part.done, response.output_item.done, response.completed (with usage); no [DONE].
// https://platform.openai.com/docs/api-reference/responses-streaming
import { COMPLETION_TOKENS, CREATED, PROMPT_TOKENS, WORDS, pieces, sse } from './canned.ts';

const usage = { input_tokens: PROMPT_TOKENS, input_tokens_details: { cached_tokens: 0 }, output_tokens: COMPLETION_TOKENS, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: PROMPT_TOKENS + COMPLETION_TOKENS };
const text = { type: 'output_text', text: WORDS, annotations: [] };
const item = { id: 'msg_bench', type: 'message', status: 'completed', role: 'assistant', content: [text] };
const response = (status: string, output: unknown[], u: unknown) => ({
  id: 'resp_bench', object: 'response', created_at: CREATED, status, error: null, incomplete_details: null, instructions: null,
  max_output_tokens: 256, model: 'gpt-4o-mini', output, parallel_tool_calls: true, previous_response_id: null,
  reasoning: { effort: null, summary: null }, store: false, temperature: 0.2, text: { format: { type: 'text' } },
  tool_choice: 'auto', tools: [], top_p: 1, truncation: 'disabled', usage: u, user: null, metadata: {},
});

export const responseJson = Buffer.from(JSON.stringify(response('completed', [item], usage)));

export const responseEvents: string[] = (() => {
  let seq = 0;
  const ev = (type: string, data: Record<string, unknown>) => sse({ type, sequence_number: seq++, ...data }, type);
  const at = { item_id: 'msg_bench', output_index: 0, content_index: 0 };
  return [
    ev('response.created', { response: response('in_progress', [], null) }),
    ev('response.in_progress', { response: response('in_progress', [], null) }),
    ev('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } }),
    ev('response.content_part.added', { ...at, part: { type: 'output_text', text: '', annotations: [] } }),
    ...pieces().map((delta) => ev('response.output_text.delta', { ...at, delta })),
    ev('response.output_text.done', { ...at, text: WORDS }),
    ev('response.content_part.done', { ...at, part: text }),
    ev('response.output_item.done', { output_index: 0, item }),
    ev('response.completed', { response: response('completed', [item], usage) }),
  ];
})();
