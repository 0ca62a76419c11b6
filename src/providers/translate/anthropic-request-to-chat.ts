// An Anthropic Messages request (https://docs.anthropic.com/en/api/messages) as an OpenAI Chat
// Completions request, for OpenAI-compatible providers. What has no OpenAI counterpart is dropped
// (top_k, thinking, cache_control, documents, server tools): docs/providers.md lists it.
import { isObject, type Json } from './sse.ts';

/** What differs between OpenAI-compatible servers in a translated request. */
export interface ChatDialect {
  /**
   * Send the output cap as `max_completion_tokens` (OpenAI's own API and Azure, whose reasoning
   * models refuse `max_tokens`) rather than `max_tokens` (what most OpenAI-compatible servers read).
   */
  maxCompletionTokens?: boolean;
}

export function anthropicRequestToChat(body: Json, upstreamModel: string, stream: boolean, dialect: ChatDialect = {}): Json {
  const messages: Json[] = [];
  const system = systemText(body.system);
  if (system) messages.push({ role: 'system', content: system });
  if (Array.isArray(body.messages)) {
    for (const m of body.messages) if (isObject(m)) messages.push(...turn(m));
  }
  const out: Json = { model: upstreamModel, messages };
  if (typeof body.max_tokens === 'number') out[dialect.maxCompletionTokens ? 'max_completion_tokens' : 'max_tokens'] = body.max_tokens;
  if (typeof body.temperature === 'number') out.temperature = body.temperature;
  if (typeof body.top_p === 'number') out.top_p = body.top_p;
  if (Array.isArray(body.stop_sequences) && body.stop_sequences.length > 0) out.stop = body.stop_sequences;
  if (isObject(body.metadata) && typeof body.metadata.user_id === 'string') out.user = body.metadata.user_id;
  const tools = Array.isArray(body.tools) ? body.tools.filter(isClientTool).map(chatTool) : [];
  if (tools.length > 0) {
    out.tools = tools;
    const choice = isObject(body.tool_choice) ? body.tool_choice : undefined;
    if (choice) {
      const mapped = toolChoice(choice);
      if (mapped !== undefined) out.tool_choice = mapped;
      if (choice.disable_parallel_tool_use === true) out.parallel_tool_calls = false;
    }
  }
  if (stream) {
    out.stream = true;
    // Every translated stream is metered from the provider's own usage chunk.
    out.stream_options = { include_usage: true };
  }
  return out;
}

/** `system` is a string or a list of text blocks. */
function systemText(system: unknown): string {
  if (typeof system === 'string') return system;
  if (!Array.isArray(system)) return '';
  return system.map((b) => (isObject(b) && typeof b.text === 'string' ? b.text : '')).filter(Boolean).join('\n\n');
}

/** One Anthropic turn as one or more OpenAI messages (tool results become `tool` messages). */
function turn(m: Json): Json[] {
  const role = m.role === 'assistant' ? 'assistant' : 'user';
  if (typeof m.content === 'string') return [{ role, content: m.content }];
  const blocks = Array.isArray(m.content) ? m.content.filter(isObject) : [];
  return role === 'assistant' ? [assistantTurn(blocks)] : userTurn(blocks);
}

function assistantTurn(blocks: Json[]): Json {
  const text: string[] = [];
  const toolCalls: Json[] = [];
  for (const b of blocks) {
    if (b.type === 'text' && typeof b.text === 'string') text.push(b.text);
    else if (b.type === 'tool_use') {
      toolCalls.push({ id: String(b.id ?? ''), type: 'function', function: { name: String(b.name ?? ''), arguments: JSON.stringify(b.input ?? {}) } });
    }
    // thinking / redacted_thinking: the other provider cannot verify Anthropic's signatures.
  }
  const out: Json = { role: 'assistant', content: text.length > 0 ? text.join('') : null };
  if (toolCalls.length > 0) out.tool_calls = toolCalls;
  return out;
}

/**
 * A user turn: its tool results first (OpenAI wants each `tool` message right after the assistant
 * message that called it), then the rest as one user message. Images inside a tool result join
 * that user message: OpenAI's tool messages carry text only.
 */
function userTurn(blocks: Json[]): Json[] {
  const out: Json[] = [];
  const parts: Json[] = [];
  for (const b of blocks) {
    if (b.type === 'tool_result') {
      const { text, images } = toolResultContent(b.content);
      out.push({ role: 'tool', tool_call_id: String(b.tool_use_id ?? ''), content: b.is_error === true && text ? `Error: ${text}` : text });
      parts.push(...images);
    } else {
      const part = userPart(b);
      if (part) parts.push(part);
    }
  }
  if (parts.length > 0) {
    const onlyText = parts.length === 1 && parts[0]!.type === 'text';
    out.push({ role: 'user', content: onlyText ? parts[0]!.text : parts });
  }
  return out;
}

function userPart(b: Json): Json | undefined {
  if (b.type === 'text' && typeof b.text === 'string') return { type: 'text', text: b.text };
  if (b.type === 'image' && isObject(b.source)) {
    const url = imageUrl(b.source);
    if (url) return { type: 'image_url', image_url: { url } };
  }
  return undefined; // documents, search results …: no OpenAI counterpart
}

/** base64 sources become data: URLs; url sources stay URLs. */
function imageUrl(source: Json): string | undefined {
  if (source.type === 'base64' && typeof source.data === 'string') return `data:${String(source.media_type ?? 'image/png')};base64,${source.data}`;
  if (source.type === 'url' && typeof source.url === 'string') return source.url;
  return undefined;
}

function toolResultContent(content: unknown): { text: string; images: Json[] } {
  if (typeof content === 'string') return { text: content, images: [] };
  const text: string[] = [];
  const images: Json[] = [];
  if (Array.isArray(content)) {
    for (const b of content) {
      if (!isObject(b)) continue;
      if (b.type === 'text' && typeof b.text === 'string') text.push(b.text);
      else if (b.type === 'image') {
        const part = userPart(b);
        if (part) images.push(part);
      }
    }
  }
  return { text: text.join('\n'), images };
}

/** Client tools (custom, or untyped as most clients send them); Anthropic's server tools are dropped. */
const isClientTool = (t: unknown): t is Json => isObject(t) && typeof t.name === 'string' && (t.type === undefined || t.type === 'custom');

function chatTool(t: Json): Json {
  const fn: Json = { name: t.name, parameters: isObject(t.input_schema) ? t.input_schema : { type: 'object', properties: {} } };
  if (typeof t.description === 'string') fn.description = t.description;
  return { type: 'function', function: fn };
}

function toolChoice(c: Json): unknown {
  if (c.type === 'auto') return 'auto';
  if (c.type === 'any') return 'required';
  if (c.type === 'none') return 'none';
  if (c.type === 'tool' && typeof c.name === 'string') return { type: 'function', function: { name: c.name } };
  return undefined;
}
