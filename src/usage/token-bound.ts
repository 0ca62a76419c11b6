// An upper bound of a request's prompt tokens, from its body, without a tokenizer.
// Byte-level BPE tokenizers never emit more tokens than the UTF-8 bytes they encode, so the byte
// length of every text the model reads, plus the chat format's per-message overhead, bounds the
// prompt. Images are bounded per part (the largest high-detail image costs under 1,600 tokens).
// Anything not understood falls back to the whole body's byte length, which is also a bound.

const PER_MESSAGE = 4;
const REPLY_PRIMING = 3;
const PER_IMAGE = 1_600;

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

function contentBound(content: unknown): number | undefined {
  if (content == null) return 0;
  if (typeof content === 'string') return bytes(content);
  if (!Array.isArray(content)) return undefined;
  let n = 0;
  for (const part of content as Array<Record<string, unknown>>) {
    if (part?.type === 'text' && typeof part.text === 'string') n += bytes(part.text);
    else if (part?.type === 'image_url' || part?.type === 'image') n += PER_IMAGE;
    else n += bytes(JSON.stringify(part));
  }
  return n;
}

export function promptTokenBound(endpoint: string, body: Record<string, unknown>, bodyBytes: number): number {
  if (endpoint === 'chat/completions' || endpoint === 'messages') {
    const messages = body.messages;
    if (!Array.isArray(messages)) return bodyBytes;
    let n = REPLY_PRIMING;
    for (const m of messages as Array<Record<string, unknown>>) {
      const c = contentBound(m?.content);
      if (c === undefined) return bodyBytes;
      n += PER_MESSAGE + c;
      if (typeof m.name === 'string') n += bytes(m.name);
      if (m.tool_calls !== undefined) n += bytes(JSON.stringify(m.tool_calls));
      if (m.function_call !== undefined) n += bytes(JSON.stringify(m.function_call));
    }
    for (const extra of ['system', 'tools', 'functions', 'tool_choice', 'response_format']) {
      if (body[extra] !== undefined) n += extra === 'system' ? (contentBound(body.system) ?? bodyBytes) : bytes(JSON.stringify(body[extra]));
    }
    return n;
  }
  const input = endpoint === 'completions' ? body.prompt : body.input;
  if (typeof input === 'string') return bytes(input) + REPLY_PRIMING;
  if (Array.isArray(input) && input.every((x) => typeof x === 'string')) return (input as string[]).reduce((s, x) => s + bytes(x) + 1, REPLY_PRIMING);
  return bodyBytes;
}
