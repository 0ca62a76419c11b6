// An OpenAI Chat Completions request as an Anthropic Messages request
// (https://docs.anthropic.com/en/api/messages). What has no Anthropic counterpart is dropped
// (n, logprobs, response_format, seed, penalties, audio and file parts): docs/providers.md lists it.
import type { ResolvedRoute } from '../types.ts';
import { isObject, type Json } from './sse.ts';
import { toolInput } from './chat-answer-to-anthropic.ts';

/** Anthropic requires max_tokens; OpenAI clients rarely send it. */
export const DEFAULT_MAX_TOKENS = 4096;

export function chatRequestToAnthropic(body: Json, route: ResolvedRoute, stream: boolean): Json {
  const system: string[] = [];
  const turns: Json[] = [];
  if (Array.isArray(body.messages)) {
    for (const m of body.messages) {
      if (!isObject(m)) continue;
      if (m.role === 'system' || m.role === 'developer') {
        const text = partsText(m.content);
        if (text) system.push(text);
      } else {
        const t = turn(m);
        if (t) push(turns, t);
      }
    }
  }
  const max = [body.max_completion_tokens, body.max_tokens].find((v) => typeof v === 'number');
  const out: Json = { model: route.upstreamModel, max_tokens: max ?? route.price?.maxOutputTokens ?? DEFAULT_MAX_TOKENS, messages: turns };
  if (system.length > 0) out.system = system.join('\n\n');
  // OpenAI's temperature goes to 2, Anthropic's to 1.
  if (typeof body.temperature === 'number') out.temperature = Math.min(body.temperature, 1);
  if (typeof body.top_p === 'number') out.top_p = body.top_p;
  const stop = typeof body.stop === 'string' ? [body.stop] : Array.isArray(body.stop) ? body.stop.filter((s) => typeof s === 'string') : [];
  if (stop.length > 0) out.stop_sequences = stop;
  if (typeof body.user === 'string') out.metadata = { user_id: body.user };
  const tools = [...(Array.isArray(body.tools) ? body.tools : []), ...(Array.isArray(body.functions) ? body.functions.map((f) => ({ type: 'function', function: f })) : [])]
    .filter((t): t is Json => isObject(t) && isObject(t.function) && typeof t.function.name === 'string')
    .map((t) => anthropicTool(t.function as Json));
  if (tools.length > 0) {
    out.tools = tools;
    const choice = toolChoice(body.tool_choice ?? body.function_call);
    if (body.parallel_tool_calls === false) out.tool_choice = { ...(choice ?? { type: 'auto' }), disable_parallel_tool_use: true };
    else if (choice) out.tool_choice = choice;
  }
  if (stream) out.stream = true;
  return out;
}

/** Anthropic wants user and assistant turns to alternate: consecutive same-role turns merge. */
function push(turns: Json[], t: Json): void {
  const last = turns[turns.length - 1];
  if (last && last.role === t.role) last.content = [...blocks(last.content), ...blocks(t.content)];
  else turns.push(t);
}

const blocks = (content: unknown): Json[] => (typeof content === 'string' ? [{ type: 'text', text: content }] : (content as Json[]));

function turn(m: Json): Json | undefined {
  if (m.role === 'tool' || m.role === 'function') {
    // a tool's result goes back in a user turn; legacy function results are matched by name
    const id = m.role === 'tool' ? String(m.tool_call_id ?? '') : legacyCallId(m.name);
    return { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: partsText(m.content) }] };
  }
  if (m.role === 'assistant') {
    const content: Json[] = [];
    const text = partsText(m.content);
    if (text) content.push({ type: 'text', text });
    if (Array.isArray(m.tool_calls)) {
      for (const c of m.tool_calls) {
        if (!isObject(c) || !isObject(c.function)) continue;
        content.push({ type: 'tool_use', id: String(c.id ?? ''), name: String(c.function.name ?? ''), input: parseArgs(c.function.arguments) });
      }
    }
    if (isObject(m.function_call)) {
      content.push({ type: 'tool_use', id: legacyCallId(m.function_call.name), name: String(m.function_call.name ?? ''), input: parseArgs(m.function_call.arguments) });
    }
    return content.length > 0 ? { role: 'assistant', content } : undefined;
  }
  if (typeof m.content === 'string') return { role: 'user', content: m.content };
  const content = Array.isArray(m.content) ? m.content.map(userBlock).filter((b): b is Json => b !== undefined) : [];
  return content.length > 0 ? { role: 'user', content } : undefined;
}

const legacyCallId = (name: unknown): string => `call_${String(name ?? '')}`;

/** Text of a string or of text parts (refusals included); '' when none. Anthropic rejects empty text blocks. */
function partsText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (isObject(p) ? (typeof p.text === 'string' ? p.text : typeof p.refusal === 'string' ? p.refusal : '') : '')).join('');
}

function userBlock(p: unknown): Json | undefined {
  if (!isObject(p)) return undefined;
  if (p.type === 'text' && typeof p.text === 'string' && p.text !== '') return { type: 'text', text: p.text };
  if (p.type === 'image_url') {
    const url = isObject(p.image_url) ? p.image_url.url : p.image_url;
    if (typeof url === 'string') return { type: 'image', source: imageSource(url) };
  }
  return undefined; // input_audio, file: no Anthropic counterpart
}

/** data: URLs become base64 sources; other URLs are fetched by Anthropic (url source). */
function imageSource(url: string): Json {
  const m = /^data:([^;,]+);base64,/.exec(url);
  if (m) return { type: 'base64', media_type: m[1], data: url.slice(m[0].length) };
  return { type: 'url', url };
}

/** Arguments sent as an object are kept; a JSON string is parsed as an answer's are (broken: {}). */
function parseArgs(args: unknown): unknown {
  return isObject(args) ? args : toolInput(args);
}

function anthropicTool(fn: Json): Json {
  const tool: Json = { name: fn.name, input_schema: isObject(fn.parameters) ? fn.parameters : { type: 'object', properties: {} } };
  if (typeof fn.description === 'string') tool.description = fn.description;
  return tool;
}

function toolChoice(c: unknown): Json | undefined {
  if (c === 'auto') return { type: 'auto' };
  if (c === 'required') return { type: 'any' };
  if (c === 'none') return { type: 'none' };
  if (isObject(c)) {
    const name = isObject(c.function) ? c.function.name : c.name;
    if (typeof name === 'string') return { type: 'tool', name };
  }
  return undefined;
}
