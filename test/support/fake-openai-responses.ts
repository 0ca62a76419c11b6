// The fake upstream's OpenAI Responses API (POST /v1/responses), in its real wire format
// (https://platform.openai.com/docs/api-reference/responses): a `response` object with
// `output` items and `usage` {input_tokens, input_tokens_details.cached_tokens, output_tokens,
// output_tokens_details.reasoning_tokens, total_tokens}; streamed as named SSE events, each with a
// `type` and a `sequence_number`, ending with response.completed (or response.incomplete when
// max_output_tokens cut it) and no [DONE]. Token accounting as in fake-upstream.ts: the prompt is
// `instructions` plus each input message; `*cached*` / `*reasoning*` models report half as such.
import type { FakeRoute } from './fake-upstream.ts';
import { generated, now, openaiError, promptTokens, replyPieces, rid, send, stream } from './fake-kit.ts';
import type { Ctx, Frame } from './fake-kit.ts';

/** Prompt tokens of a Responses request: `input` is a string or a list of message items. */
export function responsesPromptTokens(body: any): number {
  const input = typeof body?.input === 'string' ? [{ content: body.input }] : Array.isArray(body?.input) ? body.input : [];
  return promptTokens(input, body?.instructions ?? undefined);
}

function usage(model: string, input: number, output: number) {
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: model.includes('cached') ? Math.floor(input / 2) : 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: model.includes('reasoning') ? Math.floor(output / 2) : 0 },
    total_tokens: input + output,
  };
}

async function responses(ctx: Ctx): Promise<void> {
  const b = ctx.body;
  if (!ctx.model) return openaiError(ctx, 400, 'Missing required parameter: \'model\'.', 'model');
  if (b.input === undefined) return openaiError(ctx, 400, 'Missing required parameter: \'input\'.', 'input');
  const prompt = responsesPromptTokens(b);
  const cap = typeof b.max_output_tokens === 'number' ? b.max_output_tokens : Infinity;
  const n = Math.max(0, Math.min(cap, generated(ctx)));
  const cut = n < generated(ctx);
  const pieces = replyPieces(n);
  const text = pieces.join('');
  const id = rid('resp_');
  const msgId = rid('msg_');
  const created = now();
  const part = (t: string) => ({ type: 'output_text', annotations: [], logprobs: [], text: t });
  const item = (status: string, content: unknown[]) => ({ id: msgId, type: 'message', status, content, role: 'assistant' });
  const response = (status: string, output: unknown[], u: unknown) => ({
    id, object: 'response', created_at: created, status, background: false, error: null,
    incomplete_details: cut && status !== 'in_progress' ? { reason: 'max_output_tokens' } : null,
    instructions: b.instructions ?? null, max_output_tokens: b.max_output_tokens ?? null, model: ctx.model, output,
    parallel_tool_calls: true, previous_response_id: b.previous_response_id ?? null, reasoning: { effort: null, summary: null },
    store: b.store ?? true, temperature: b.temperature ?? 1, text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: 'auto', tools: [], top_p: b.top_p ?? 1, truncation: 'disabled', usage: u, user: null, metadata: b.metadata ?? {},
  });
  const final = usage(ctx.model, prompt, n);
  const status = cut ? 'incomplete' : 'completed';
  if (b.stream !== true) return send(ctx, 200, response(status, [item(status, [part(text)])], final), [prompt, n, true]);

  let seq = 0;
  const ev = (type: string, data: Record<string, unknown>, counted?: Frame['usage']): Frame => ({ event: type, data: { type, sequence_number: seq++, ...data }, ...(counted ? { usage: counted } : {}) });
  const at = { item_id: msgId, output_index: 0, content_index: 0 };
  const frames: Frame[] = [
    ev('response.created', { response: response('in_progress', [], null) }),
    ev('response.in_progress', { response: response('in_progress', [], null) }),
    ev('response.output_item.added', { output_index: 0, item: item('in_progress', []) }),
    ev('response.content_part.added', { ...at, part: part('') }),
    ...pieces.map((delta) => ev('response.output_text.delta', { ...at, delta, logprobs: [] })),
    ev('response.output_text.done', { ...at, text, logprobs: [] }),
    ev('response.content_part.done', { ...at, part: part(text) }),
    ev('response.output_item.done', { output_index: 0, item: item(status, [part(text)]) }),
    ev(`response.${status}`, { response: response(status, [item(status, [part(text)])], final) }, [prompt, n, true]),
  ];
  return stream(ctx, frames);
}

export const responsesRoutes: FakeRoute[] = [
  {
    matches: (method, path) => method === 'POST' && path === '/v1/responses',
    error: (ctx, status, message) => openaiError(ctx, status, message),
    handle: (ctx) => responses(ctx),
  },
];
