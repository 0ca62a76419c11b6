// The demo model's OpenAI Responses API answers (what Codex CLI speaks), in the real wire format:
// a `response` object, or its named events — response.created, response.in_progress,
// response.output_item.added, response.content_part.added, response.output_text.delta × n,
// response.output_text.done, response.content_part.done, response.output_item.done, then
// response.completed (or response.incomplete when max_output_tokens cut the answer), no [DONE].
// https://platform.openai.com/docs/api-reference/responses-streaming
import { DEMO_PIECES, contentText, tokensOf } from './answers.ts';

/** Prompt tokens: `instructions` and each input item, ⌈chars / 4⌉ + 3 apiece (as a chat message). */
export function responsesPromptTokens(body: Record<string, unknown>): number {
  const items = typeof body.input === 'string' ? [{ content: body.input }] : Array.isArray(body.input) ? body.input : [];
  let n = typeof body.instructions === 'string' ? tokensOf(body.instructions) + 3 : 0;
  for (const item of items) n += tokensOf(contentText((item as { content?: unknown } | null)?.content)) + 3;
  return n;
}

let seq = 0;

interface Shape {
  id: string;
  msgId: string;
  created: number;
  model: string;
  pieces: string[];
  text: string;
  /** 'completed', or 'incomplete' when max_output_tokens cut the answer */
  status: 'completed' | 'incomplete';
  usage: Record<string, unknown>;
  body: Record<string, unknown>;
}

function shape(model: string, body: Record<string, unknown>): Shape {
  const max = body.max_output_tokens;
  const n = typeof max === 'number' && Number.isInteger(max) && max >= 0 ? Math.min(max, DEMO_PIECES.length) : DEMO_PIECES.length;
  const pieces = DEMO_PIECES.slice(0, n);
  const prompt = responsesPromptTokens(body);
  const tag = `${Date.now().toString(36)}${(seq++).toString(36)}`;
  return {
    id: `resp_demo${tag}`, msgId: `msg_demo${tag}`, created: Math.floor(Date.now() / 1000), model, pieces, text: pieces.join(''),
    status: n < DEMO_PIECES.length ? 'incomplete' : 'completed',
    usage: { input_tokens: prompt, input_tokens_details: { cached_tokens: 0 }, output_tokens: n, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: prompt + n },
    body,
  };
}

const part = (text: string) => ({ type: 'output_text', text, annotations: [] });
const item = (s: Shape, status: string, content: unknown[]) => ({ id: s.msgId, type: 'message', status, role: 'assistant', content });

function response(s: Shape, status: string, output: unknown[], usage: unknown) {
  const b = s.body;
  return {
    id: s.id, object: 'response', created_at: s.created, status, error: null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: typeof b.instructions === 'string' ? b.instructions : null,
    max_output_tokens: typeof b.max_output_tokens === 'number' ? b.max_output_tokens : null,
    model: s.model, output, parallel_tool_calls: true, previous_response_id: null,
    reasoning: { effort: null, summary: null }, store: false, temperature: 1, text: { format: { type: 'text' } },
    tool_choice: 'auto', tools: [], top_p: 1, truncation: 'disabled', usage, user: null, metadata: {},
  };
}

export function responseJson(model: string, body: Record<string, unknown>): string {
  const s = shape(model, body);
  return JSON.stringify(response(s, s.status, [item(s, s.status, [part(s.text)])], s.usage));
}

export function responseEvents(model: string, body: Record<string, unknown>): string[] {
  const s = shape(model, body);
  let n = 0;
  const ev = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: n++, ...data })}\n\n`;
  const at = { item_id: s.msgId, output_index: 0, content_index: 0 };
  const done = item(s, s.status, [part(s.text)]);
  return [
    ev('response.created', { response: response(s, 'in_progress', [], null) }),
    ev('response.in_progress', { response: response(s, 'in_progress', [], null) }),
    ev('response.output_item.added', { output_index: 0, item: item(s, 'in_progress', []) }),
    ev('response.content_part.added', { ...at, part: part('') }),
    ...s.pieces.map((delta) => ev('response.output_text.delta', { ...at, delta, logprobs: [] })),
    ev('response.output_text.done', { ...at, text: s.text, logprobs: [] }),
    ev('response.content_part.done', { ...at, part: part(s.text) }),
    ev('response.output_item.done', { output_index: 0, item: done }),
    ev(`response.${s.status}`, { response: response(s, s.status, [done], s.usage) }),
  ];
}
