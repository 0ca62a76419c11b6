// POST /v1/messages/count_tokens for a provider without a token counter: a local estimate, made
// from the request alone (no tokenizer is shipped; the provider's own would differ anyway).
//
//   text (system, text blocks, tool_use inputs, tool_result text, tool definitions as JSON)
//     → ceil(characters / 4)
//   + 3 per message (role and separators), + 1,600 per image (Anthropic's cap for one image).
import { isObject, type Json } from './sse.ts';

const CHARS_PER_TOKEN = 4;
const PER_MESSAGE = 3;
const PER_IMAGE = 1600;

export function estimateInputTokens(body: Json): number {
  let chars = 0;
  let extra = 0;
  const add = (v: unknown): void => {
    if (typeof v === 'string') chars += v.length;
    else if (Array.isArray(v)) for (const b of v) block(b);
  };
  const block = (b: unknown): void => {
    if (typeof b === 'string') chars += b.length;
    if (!isObject(b)) return;
    if (b.type === 'image' || b.type === 'document') extra += PER_IMAGE;
    else if (typeof b.text === 'string') chars += b.text.length;
    else if (b.type === 'tool_use') chars += String(b.name ?? '').length + JSON.stringify(b.input ?? {}).length;
    else if (b.type === 'tool_result') add(b.content);
  };
  add(body.system);
  if (Array.isArray(body.messages)) {
    for (const m of body.messages) {
      extra += PER_MESSAGE;
      if (isObject(m)) add(m.content);
    }
  }
  if (Array.isArray(body.tools) && body.tools.length > 0) chars += JSON.stringify(body.tools).length;
  return Math.ceil(chars / CHARS_PER_TOKEN) + extra;
}
