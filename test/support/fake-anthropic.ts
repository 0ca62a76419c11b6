// Anthropic's Messages API on the fake upstream, in its real wire format
// (https://docs.anthropic.com/en/api/messages, …/messages-streaming, …/messages-count-tokens):
// POST /v1/messages (text, tool use with input_json_delta streaming, images) and
// POST /v1/messages/count_tokens. Requests are checked the way the real API checks them, so a
// gateway that translates badly fails here as it would there.
//
// Behaviour: when the request offers `tools` (and tool_choice is not `none`) and its last user
// turn carries no tool_result, the model "calls" a tool: a short text block ("tok0 tok1") then a
// tool_use block for the named tool (tool_choice `tool`) or the first one, its input built from
// the input_schema (strings "tok0", numbers 1, booleans true); stop_reason `tool_use`.
// Otherwise it answers text as the OpenAI endpoints do. Image blocks cost IMAGE_TOKENS each; a
// `*cached*` model reports half the prompt as cache_read_input_tokens (usageTotals count the whole prompt).
import { completionTokens, generated, promptTokens, replyPieces, rid, send, stream, textTokens, wantsUsage } from './fake-kit.ts';
import type { Ctx, Frame } from './fake-kit.ts';
import type { FakeRoute } from './fake-upstream.ts';

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error',
  413: 'request_too_large', 429: 'rate_limit_error', 500: 'api_error', 529: 'overloaded_error',
};

/** Input tokens one image block costs on the fake (the real API: about width × height / 750). */
export const IMAGE_TOKENS = 85;
const MEDIA_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];

export function anthropicError(ctx: Ctx, status: number, message: string): void {
  const type = ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
  send(ctx, status, { type: 'error', error: { type, message } });
}

const blocksOf = (content: unknown): any[] => (Array.isArray(content) ? content : []);

/** Input tokens of a Messages request: the shared text count, plus IMAGE_TOKENS per image (tool results' too). */
export function anthropicInputTokens(body: any): number {
  let images = 0;
  for (const m of Array.isArray(body?.messages) ? body.messages : []) {
    for (const b of blocksOf(m?.content)) {
      if (b?.type === 'image') images++;
      if (b?.type === 'tool_result') images += blocksOf(b.content).filter((c) => c?.type === 'image').length;
    }
  }
  return promptTokens(body?.messages, body?.system) + images * IMAGE_TOKENS;
}

/** The checks the real API makes that a translation can get wrong; the error message it gives, or undefined. */
function invalid(b: any): string | undefined {
  if (!Array.isArray(b.messages)) return 'messages: Field required';
  if (b.system !== undefined && typeof b.system !== 'string' && !Array.isArray(b.system)) return 'system: Input should be a valid string or list';
  for (let i = 0; i < b.messages.length; i++) {
    const m = b.messages[i];
    if (m?.role !== 'user' && m?.role !== 'assistant') return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    if (typeof m.content !== 'string' && !Array.isArray(m.content)) return `messages.${i}.content: Input should be a valid string or list`;
    const prev = i > 0 ? blocksOf(b.messages[i - 1].content) : [];
    for (let j = 0; j < blocksOf(m.content).length; j++) {
      const c = m.content[j];
      const at = `messages.${i}.content.${j}`;
      if (c?.type === 'text' && (typeof c.text !== 'string' || c.text === '')) return 'messages: text content blocks must be non-empty';
      if (c?.type === 'image') {
        const s = c.source;
        if (s?.type === 'base64' && !MEDIA_TYPES.includes(s.media_type)) return `${at}.image.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'`;
        if (s?.type === 'base64' && typeof s.data !== 'string') return `${at}.image.source.base64.data: Field required`;
        if (s?.type === 'url' && typeof s.url !== 'string') return `${at}.image.source.url.url: Field required`;
        if (s?.type !== 'base64' && s?.type !== 'url') return `${at}.image.source: Input tag '${s?.type}' found using 'type' does not match any of the expected tags: 'base64', 'url'`;
      }
      if (c?.type === 'tool_use' && (typeof c.id !== 'string' || typeof c.name !== 'string' || c.input === null || typeof c.input !== 'object')) return `${at}.tool_use: id, name and input (an object) are required`;
      if (c?.type === 'tool_result' && !prev.some((p: any) => p?.type === 'tool_use' && p.id === c.tool_use_id)) {
        return `${at}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${c.tool_use_id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
      }
    }
  }
  for (const [k, t] of (Array.isArray(b.tools) ? b.tools : []).entries()) {
    if (typeof t?.name !== 'string') return `tools.${k}.name: Field required`;
    if ((t.type === undefined || t.type === 'custom') && (t.input_schema === null || typeof t.input_schema !== 'object')) return `tools.${k}.custom.input_schema: Field required`;
  }
  if (b.tool_choice !== undefined && !['auto', 'any', 'tool', 'none'].includes(b.tool_choice?.type)) return `tool_choice: Input tag '${b.tool_choice?.type}' found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'`;
  if (b.tool_choice?.type === 'tool' && !(b.tools ?? []).some((t: any) => t?.name === b.tool_choice.name)) return `tool_choice.tool.name: Tool '${b.tool_choice.name}' not found in tools`;
  return undefined;
}

/** The tool the model calls, if it calls one (see the header). */
function toolToCall(b: any): any | undefined {
  const tools = Array.isArray(b.tools) ? b.tools : [];
  if (tools.length === 0 || b.tool_choice?.type === 'none') return undefined;
  const last = b.messages[b.messages.length - 1];
  if (blocksOf(last?.content).some((c) => c?.type === 'tool_result')) return undefined;
  return b.tool_choice?.type === 'tool' ? tools.find((t: any) => t.name === b.tool_choice.name) : tools[0];
}

function inputFor(schema: any): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, p] of Object.entries<any>(schema?.properties ?? {})) {
    out[name] = p?.type === 'number' || p?.type === 'integer' ? 1 : p?.type === 'boolean' ? true : 'tok0';
  }
  return out;
}

export async function anthropicMessages(ctx: Ctx): Promise<void> {
  const b = ctx.body;
  // The real API rejects these, so a gateway that forgets to forward them must fail here too.
  if (!ctx.req.headers['anthropic-version']) return anthropicError(ctx, 400, 'anthropic-version: header is required');
  if (!ctx.model) return anthropicError(ctx, 400, 'model: Field required');
  if (typeof b.max_tokens !== 'number') return anthropicError(ctx, 400, 'max_tokens: Field required');
  const problem = invalid(b);
  if (problem) return anthropicError(ctx, 400, problem);

  const input = anthropicInputTokens(b);
  const tool = toolToCall(b);
  const withUsage = wantsUsage(ctx);
  // `*cached*` models read half the prompt from the cache (Anthropic's input_tokens then exclude it).
  const cached = ctx.model.includes('cached') ? Math.floor(input / 2) : 0;
  const usage = (output: number) => ({ input_tokens: input - cached, cache_creation_input_tokens: 0, cache_read_input_tokens: cached, output_tokens: output });
  const message = { id: rid('msg_'), type: 'message', role: 'assistant', model: ctx.model };
  if (tool) return toolCall(ctx, tool, message, usage, withUsage, input);

  const n = completionTokens(b, generated(ctx));
  const stop_reason = n < generated(ctx) ? 'max_tokens' : 'end_turn';
  if (b.stream !== true) {
    const content = [{ type: 'text', text: replyPieces(n).join('') }];
    const body = { ...message, content, stop_reason, stop_sequence: null, ...(withUsage ? { usage: usage(n) } : {}) };
    return send(ctx, 200, body, withUsage ? [input, n, true] : undefined);
  }
  // message_start reports input_tokens and a provisional output_tokens of 1; message_delta reports the
  // cumulative final output_tokens. usageTotals follow what was sent: +1 at start, +(n-1) at the delta.
  const frames: Frame[] = [
    start(message, usage, withUsage, input),
    { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
    { event: 'ping', data: { type: 'ping' } },
    ...replyPieces(n).map((text) => ({ event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } } })),
    { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
    ...end(stop_reason, n, withUsage),
  ];
  return stream(ctx, frames);
}

type UsageOf = (output: number) => Record<string, number>;

function start(message: object, usage: UsageOf, withUsage: boolean, input: number): Frame {
  return {
    event: 'message_start',
    data: { type: 'message_start', message: { ...message, content: [], stop_reason: null, stop_sequence: null, ...(withUsage ? { usage: usage(1) } : {}) } },
    ...(withUsage ? { usage: [input, 1, true] as Frame['usage'] } : {}),
  };
}

function end(stop_reason: string, n: number, withUsage: boolean): Frame[] {
  return [
    {
      event: 'message_delta',
      data: { type: 'message_delta', delta: { stop_reason, stop_sequence: null }, ...(withUsage ? { usage: { output_tokens: n } } : {}) },
      ...(withUsage ? { usage: [0, n - 1, false] as Frame['usage'] } : {}),
    },
    { event: 'message_stop', data: { type: 'message_stop' } },
  ];
}

/** A text block then a tool_use block; streamed, the input arrives as input_json_delta pieces. */
function toolCall(ctx: Ctx, tool: any, message: object, usage: UsageOf, withUsage: boolean, input: number): Promise<void> | void {
  const toolUse = { type: 'tool_use', id: rid('toolu_'), name: tool.name, input: inputFor(tool.input_schema) };
  const json = JSON.stringify(toolUse.input);
  const lead = replyPieces(2);
  const n = lead.length + textTokens(json);
  if (ctx.body.stream !== true) {
    const body = { ...message, content: [{ type: 'text', text: lead.join('') }, toolUse], stop_reason: 'tool_use', stop_sequence: null, ...(withUsage ? { usage: usage(n) } : {}) };
    return send(ctx, 200, body, withUsage ? [input, n, true] : undefined);
  }
  // As Anthropic streams a tool call: the block starts with an empty input, then the JSON in
  // pieces (the first one empty), to be joined by the client.
  const pieces = ['', ...(json.match(/.{1,8}/g) ?? [])];
  const frames: Frame[] = [
    start(message, usage, withUsage, input),
    { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
    ...lead.map((text) => ({ event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } } })),
    { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
    { event: 'content_block_start', data: { type: 'content_block_start', index: 1, content_block: { ...toolUse, input: {} } } },
    ...pieces.map((partial_json) => ({ event: 'content_block_delta', data: { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json } } })),
    { event: 'content_block_stop', data: { type: 'content_block_stop', index: 1 } },
    ...end('tool_use', n, withUsage),
  ];
  return stream(ctx, frames);
}

/** POST /v1/messages/count_tokens: { input_tokens } for the request as /v1/messages would count it; free, so not in usageTotals. */
function countTokens(ctx: Ctx): void {
  const b = ctx.body;
  if (!ctx.req.headers['anthropic-version']) return anthropicError(ctx, 400, 'anthropic-version: header is required');
  if (!ctx.model) return anthropicError(ctx, 400, 'model: Field required');
  const problem = invalid(b);
  if (problem) return anthropicError(ctx, 400, problem);
  const tools = Array.isArray(b.tools) && b.tools.length > 0 ? textTokens(JSON.stringify(b.tools)) : 0;
  send(ctx, 200, { input_tokens: anthropicInputTokens(b) + tools });
}

/** More Anthropic endpoints than /v1/messages. */
export const anthropicRoutes: FakeRoute[] = [
  {
    matches: (method, path) => method === 'POST' && path === '/v1/messages/count_tokens',
    // @anthropic-ai/sdk sends x-api-key (Claude Code may send Authorization: Bearer instead).
    authorized: (req, key) => req.headers['x-api-key'] === key || req.headers.authorization === `Bearer ${key}`,
    error: anthropicError,
    handle: countTokens,
  },
];
