// An upper bound of what a request can be billed, from its (checked, see proxy/body-check.ts) body,
// without a tokenizer. Admission reserves this much against every budget, so it must be a TRUE
// bound for every field that adds or multiplies cost; where the request names something whose
// cost cannot be bounded from the request, the bound says so (`unbounded`) and a hard budget
// refuses the request rather than guess. docs/limits.md lists the bound per field.
//
// Text: byte-level BPE tokenizers never emit more tokens than the UTF-8 bytes they encode, so
// byte lengths plus the chat format's per-message overhead bound the prompt.
import type { ModelPrice } from '../config.ts';
import type { Endpoint } from '../providers/types.ts';

export interface Unbounded {
  param: string;
  reason: string;
}

export interface RequestBound {
  /** prompt tokens, at most (billed once, whatever `n` is) */
  promptTokens: number;
  /** output tokens over every choice and every prompt, at most */
  outputTokens: number;
  /** the field whose cost has no bound and why (a hard budget refuses the request), else undefined */
  unbounded: Unbounded | undefined;
}

const PER_MESSAGE = 4;
const REPLY_PRIMING = 3;
/** per tool definition: the rendered function signature adds a few words around its JSON */
const PER_TOOL = 32;
/** the tools preamble the provider adds once */
const TOOLS_PREAMBLE = 64;
/**
 * Per image, when the model has no `imageTokens` of its own: the most any OpenAI model documents
 * (gpt-4o-mini: 2,833 + 5,667 per 512-px tile, 8 tiles at most after scaling = 48,169).
 */
export const DEFAULT_IMAGE_TOKENS = 48_169;
/** Output cap reserved when neither the request nor the model gives one (soft budgets only). */
export const DEFAULT_MAX_OUTPUT_TOKENS = 4_096;
/** OpenAI's legacy completions API generates 16 tokens when max_tokens is absent. */
const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');
const json = (v: unknown): number => bytes(JSON.stringify(v) ?? '');

// Top-level fields that change neither the tokens billed nor their price. A field outside these
// lists (or a cost-bearing one: audio, web search, priority tier) has no bound Tollgate knows.
const NEUTRAL_COMMON = ['model', 'stream', 'stream_options', 'max_tokens', 'n', 'temperature', 'top_p', 'frequency_penalty', 'presence_penalty', 'logit_bias', 'logprobs', 'stop', 'seed', 'user',
  // widely used sampling parameters of OpenAI-compatible servers (vLLM, Ollama, OpenRouter)
  'top_k', 'min_p', 'top_a', 'repetition_penalty', 'length_penalty', 'ignore_eos', 'skip_special_tokens', 'min_tokens'];
const NEUTRAL: Record<Endpoint, Set<string>> = {
  'chat/completions': new Set([...NEUTRAL_COMMON, 'messages', 'max_completion_tokens', 'top_logprobs', 'response_format', 'tools', 'tool_choice', 'parallel_tool_calls', 'functions',
    'function_call', 'store', 'metadata', 'reasoning_effort', 'verbosity', 'prediction', 'safety_identifier', 'prompt_cache_key', 'service_tier', 'modalities']),
  completions: new Set([...NEUTRAL_COMMON, 'prompt', 'suffix', 'best_of', 'echo']),
  embeddings: new Set(['model', 'input', 'encoding_format', 'dimensions', 'user']),
  // Anthropic Messages: extended thinking counts within max_tokens; server tools (web search,
  // code execution) and MCP servers bill beyond tokens, so they are not listed.
  messages: new Set(['model', 'messages', 'system', 'max_tokens', 'metadata', 'stop_sequences', 'stream', 'temperature', 'top_k', 'top_p', 'tools', 'tool_choice', 'thinking', 'service_tier']),
  'messages/count_tokens': new Set(),
  // Responses: reasoning counts within max_output_tokens; a previous_response_id or conversation
  // bills the stored history, which the request does not show.
  responses: new Set(['model', 'input', 'instructions', 'max_output_tokens', 'stream', 'stream_options', 'temperature', 'top_p', 'top_logprobs', 'store', 'metadata', 'user', 'tools', 'tool_choice',
    'parallel_tool_calls', 'text', 'reasoning', 'truncation', 'include', 'safety_identifier', 'prompt_cache_key', 'service_tier', 'max_tool_calls']),
  generateContent: new Set(['contents', 'systemInstruction', 'system_instruction', 'tools', 'toolConfig', 'tool_config', 'safetySettings', 'safety_settings', 'generationConfig', 'generation_config']),
};

export function requestBound(endpoint: Endpoint, body: Record<string, unknown>, price: ModelPrice | undefined): RequestBound {
  // Counting tokens is free (Anthropic does not bill it): nothing to reserve.
  if (endpoint === 'messages/count_tokens') return { promptTokens: 0, outputTokens: 0, unbounded: undefined };
  let unbounded: Unbounded | undefined;
  for (const field in body) {
    if (!NEUTRAL[endpoint].has(field) && body[field] !== undefined && body[field] !== null) {
      unbounded = { param: field, reason: `\`${field}\` is not a field whose cost Tollgate can bound` };
      break;
    }
  }
  if (endpoint === 'messages' || endpoint === 'responses' || endpoint === 'generateContent') return otherApiBound(endpoint, body, price, unbounded);
  if (endpoint === 'embeddings') return { promptTokens: inputTokens(body.input).tokens, outputTokens: 0, unbounded };
  if (endpoint === 'completions') {
    const prompts = inputTokens(body.prompt ?? '');
    const suffix = typeof body.suffix === 'string' ? bytes(body.suffix) : 0;
    const perChoice = outputCap(body) ?? COMPLETIONS_DEFAULT_MAX_TOKENS;
    const choices = Math.max(int(body.n, 1), int(body.best_of, 1));
    // Each prompt of a batch gets its own `n` (or `best_of`) completions, all billed.
    return { promptTokens: prompts.tokens + suffix, outputTokens: perChoice * choices * Math.max(1, prompts.count), unbounded };
  }

  const prompt = chatPrompt(body, price);
  unbounded ??= prompt.unbounded;
  if (body.service_tier !== undefined && body.service_tier !== null && !['auto', 'default', 'flex'].includes(body.service_tier as string)) {
    unbounded ??= { param: 'service_tier', reason: `service_tier \`${String(body.service_tier)}\` is priced above the list price` };
  }
  if (Array.isArray(body.modalities) && body.modalities.includes('audio')) unbounded ??= { param: 'modalities', reason: 'audio output is billed in audio tokens, which the request cannot bound' };
  const cap = outputCap(body) ?? price?.maxOutputTokens;
  if (cap === undefined) unbounded ??= { param: 'max_tokens', reason: `the model \`${String(body.model)}\` has no known output cap: set max_tokens or max_completion_tokens` };
  // Predicted outputs: rejected prediction tokens are billed as output, on top of max_tokens.
  const prediction = body.prediction !== undefined && body.prediction !== null ? json(body.prediction) : 0;
  const choices = int(body.n, 1);
  return { promptTokens: prompt.tokens, outputTokens: ((cap ?? DEFAULT_MAX_OUTPUT_TOKENS) + prediction) * choices, unbounded };
}

function chatPrompt(body: Record<string, unknown>, price: ModelPrice | undefined): { tokens: number; unbounded: Unbounded | undefined } {
  const imageTokens = price?.imageTokens ?? DEFAULT_IMAGE_TOKENS;
  let unbounded: Unbounded | undefined;
  let n = REPLY_PRIMING;
  const messages = body.messages as Array<Record<string, unknown>>;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    n += PER_MESSAGE + bytes(m.role as string);
    const c = m.content;
    if (typeof c === 'string') n += bytes(c);
    else if (Array.isArray(c)) {
      for (const part of c as Array<Record<string, unknown>>) {
        if (part.type === 'text' || part.type === 'refusal') n += bytes(String(part.text ?? part.refusal ?? ''));
        else if (part.type === 'image_url') n += imageTokens;
        else unbounded ??= { param: `messages[${i}].content`, reason: `a \`${String(part.type)}\` content part has no cost bound Tollgate knows` };
      }
    }
    if (typeof m.name === 'string') n += bytes(m.name);
    if (m.tool_calls !== undefined) n += json(m.tool_calls);
    if (m.function_call !== undefined) n += json(m.function_call);
    if (m.audio !== undefined && m.audio !== null) unbounded ??= { param: `messages[${i}].audio`, reason: 'an audio reply in the history is billed in audio tokens, which the request cannot bound' };
  }
  for (const f of ['tools', 'functions'] as const) {
    const list = body[f];
    if (Array.isArray(list) && list.length > 0) n += TOOLS_PREAMBLE + list.length * PER_TOOL + json(list);
  }
  for (const f of ['tool_choice', 'function_call', 'response_format'] as const) if (body[f] !== undefined) n += json(body[f]);
  return { tokens: n, unbounded };
}

/** Tokens of a prompt/input (string, strings, token ids, token arrays) and how many prompts it holds. */
function inputTokens(v: unknown): { tokens: number; count: number } {
  if (typeof v === 'string') return { tokens: bytes(v) + REPLY_PRIMING, count: 1 };
  if (!Array.isArray(v)) return { tokens: 0, count: 0 };
  // An array of token ids is ONE prompt; an array of strings or of token arrays is a batch.
  if (v.every((x) => typeof x === 'number')) return { tokens: v.length + REPLY_PRIMING, count: 1 };
  let tokens = REPLY_PRIMING;
  for (const x of v) tokens += (typeof x === 'string' ? bytes(x) : Array.isArray(x) ? x.length : 1) + 1;
  return { tokens, count: v.length };
}

function outputCap(body: Record<string, unknown>): number | undefined {
  const v = body.max_completion_tokens ?? body.max_tokens;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}

const int = (v: unknown, dflt: number): number => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : dflt);

/**
 * Messages, Responses and generateContent: the prompt is bounded by the JSON bytes of everything
 * the model reads (JSON only adds bytes around the text), plus a fixed bound per image; the output
 * by the request's cap (or the model's), times Gemini's candidateCount.
 */
function otherApiBound(endpoint: 'messages' | 'responses' | 'generateContent', body: Record<string, unknown>, price: ModelPrice | undefined, unbounded: Unbounded | undefined): RequestBound {
  const images = { count: 0, unbounded: undefined as Unbounded | undefined };
  let prompt = REPLY_PRIMING;
  const read = endpoint === 'messages' ? ['system', 'messages', 'tools', 'tool_choice'] : endpoint === 'responses' ? ['instructions', 'input', 'tools', 'tool_choice', 'text'] : ['systemInstruction', 'system_instruction', 'contents', 'tools', 'toolConfig', 'tool_config'];
  for (const f of read) {
    const v = body[f];
    if (v === undefined || v === null) continue;
    prompt += typeof v === 'string' ? bytes(v) : textBytes(v, f, images);
  }
  prompt += images.count * (price?.imageTokens ?? DEFAULT_IMAGE_TOKENS);
  unbounded ??= images.unbounded;
  // Tools the provider runs itself (web search, code execution, file search, MCP) are billed per
  // use on top of tokens; functions the client runs cost only their tokens.
  if (Array.isArray(body.tools)) {
    for (let i = 0; i < body.tools.length; i++) {
      const type = serverTool(endpoint, body.tools[i]);
      if (type !== undefined) {
        unbounded ??= { param: `tools[${i}]`, reason: `a \`${type}\` tool is billed per use, which the request cannot bound` };
        break;
      }
    }
  }
  let cap: number | undefined;
  let choices = 1;
  let extra = 0;
  if (endpoint === 'messages') cap = nonNegative(body.max_tokens);
  else if (endpoint === 'responses') cap = nonNegative(body.max_output_tokens);
  else {
    const g = (body.generationConfig ?? body.generation_config) as Record<string, unknown> | undefined;
    if (g && typeof g === 'object') {
      cap = nonNegative(g.maxOutputTokens ?? g.max_output_tokens);
      choices = int(g.candidateCount ?? g.candidate_count, 1);
      // Gemini bills thinking as output; a thinking budget adds to the visible cap.
      const thinking = (g.thinkingConfig ?? g.thinking_config) as Record<string, unknown> | undefined;
      if (thinking && typeof thinking === 'object') {
        const budget = thinking.thinkingBudget ?? thinking.thinking_budget;
        if (typeof budget === 'number' && budget > 0) extra = budget;
        else if (budget !== 0) unbounded ??= { param: 'generationConfig.thinkingConfig', reason: 'thinking without a thinkingBudget has no bound Tollgate knows' };
      }
    }
  }
  cap ??= price?.maxOutputTokens;
  const capParam = endpoint === 'messages' ? 'max_tokens' : endpoint === 'responses' ? 'max_output_tokens' : 'generationConfig.maxOutputTokens';
  if (cap === undefined) unbounded ??= { param: capParam, reason: `the model \`${String(body.model)}\` has no known output cap: set ${capParam}` };
  return { promptTokens: prompt, outputTokens: ((cap ?? DEFAULT_MAX_OUTPUT_TOKENS) + extra) * choices, unbounded };
}

/** The kind of a tool the provider runs itself (billed beyond tokens), or undefined for a client-run function. */
function serverTool(endpoint: 'messages' | 'responses' | 'generateContent', tool: unknown): string | undefined {
  if (typeof tool !== 'object' || tool === null) return undefined;
  const t = tool as Record<string, unknown>;
  // Gemini names a tool by its key: functionDeclarations, or googleSearch, codeExecution, urlContext …
  if (endpoint === 'generateContent') return Object.keys(t).find((k) => k !== 'functionDeclarations' && k !== 'function_declarations');
  const type = t.type;
  if (typeof type !== 'string') return undefined;
  if (endpoint === 'responses') return type !== 'function' && type !== 'custom' ? type : undefined;
  return /^(web_search|web_fetch|code_execution|mcp)/.test(type) ? type : undefined;
}

// Content parts that are images in each API (counted at the image bound, their bytes skipped), and
// those whose cost the request cannot show (files by id or URL, PDFs: billed per page).
const IMAGE_PARTS = new Set(['image', 'input_image', 'image_url']);
const OPAQUE_PARTS = new Set(['document', 'input_file', 'file', 'container_upload', 'search_result']);
const IMAGE_KEYS = new Set(['inlineData', 'inline_data', 'fileData', 'file_data']);

/** JSON bytes of a value, images counted apart and opaque parts flagged (a walk over values, not bytes). */
function textBytes(v: unknown, path: string, images: { count: number; unbounded: Unbounded | undefined }): number {
  if (typeof v === 'string') return bytes(v) + 2;
  if (typeof v !== 'object' || v === null) return 8;
  if (Array.isArray(v)) {
    let n = 2;
    for (let i = 0; i < v.length; i++) n += textBytes(v[i], `${path}[${i}]`, images) + 1;
    return n;
  }
  const o = v as Record<string, unknown>;
  if (typeof o.type === 'string') {
    if (IMAGE_PARTS.has(o.type)) return (images.count++, 0);
    if (OPAQUE_PARTS.has(o.type)) {
      images.unbounded ??= { param: path, reason: `a \`${o.type}\` part has no cost bound Tollgate knows` };
      return 0;
    }
  }
  let n = 2;
  for (const k in o) {
    if (IMAGE_KEYS.has(k)) {
      // Gemini inline data: images are bounded, audio/video/PDF are billed by duration or page.
      const mime = String((o[k] as Record<string, unknown> | null)?.mimeType ?? (o[k] as Record<string, unknown> | null)?.mime_type ?? '');
      if (mime.startsWith('image/')) images.count++;
      else images.unbounded ??= { param: `${path}.${k}`, reason: `\`${mime || 'unknown'}\` data has no cost bound Tollgate knows` };
      continue;
    }
    n += bytes(k) + 3 + textBytes(o[k], `${path}.${k}`, images);
  }
  return n;
}

const nonNegative = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);
