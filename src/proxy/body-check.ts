// Validates a /v1 request body before anything is admitted or sent upstream: the fields Tollgate
// itself reads (to route, bound the cost, and prepare the stream) must have the shape the OpenAI
// API documents, and no value may be nested deeper than MAX_DEPTH. A malformed body is a 400 that
// names the field; everything else passes through to the provider untouched.
//
// The walk visits values, not bytes (a 100 KB string is one step), so a normal chat body costs
// well under a microsecond.
import type { Endpoint } from '../providers/types.ts';
import { MAX_DEPTH } from '../http/validate.ts';


export type BodyProblem = { param: string; message: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/**
 * The first problem found in a parsed body, or undefined when Tollgate can work with it.
 * `model`: the model as the request names it (the body's, or Gemini's from the URL path).
 */
export function checkBody(endpoint: Endpoint, body: Record<string, unknown>, model: unknown = body.model): BodyProblem | undefined {
  const deep = tooDeep(body, 1);
  if (deep !== undefined) return { param: deep, message: `JSON is nested more than ${MAX_DEPTH} levels deep` };
  if (typeof model !== 'string' || model === '') return { param: 'model', message: 'a model name is required' };
  // The name is logged and routed on: printable, well-formed (no lone surrogate, no NUL), bounded.
  if (model.length > 256 || !model.isWellFormed() || model.includes('\u0000')) return { param: 'model', message: 'must be a model name of at most 256 well-formed characters' };
  const common = checkCommon(body);
  if (common) return common;
  if (endpoint === 'chat/completions') return checkMessages(body.messages);
  if (endpoint === 'messages' || endpoint === 'messages/count_tokens') return checkAnthropic(body, endpoint === 'messages');
  if (endpoint === 'responses') return checkResponses(body);
  if (endpoint === 'generateContent') return checkGemini(body);
  if (endpoint === 'completions') return body.prompt === undefined || body.prompt === null ? undefined : checkInput(body.prompt, 'prompt');
  if (body.input === undefined) return { param: 'input', message: 'input is required' };
  const d = body.dimensions;
  if (d !== undefined && d !== null && !(isInt(d) && d >= 1 && d <= 65_536)) return { param: 'dimensions', message: 'must be an integer from 1 to 65536' };
  const f = body.encoding_format;
  if (f !== undefined && f !== null && f !== 'float' && f !== 'base64') return { param: 'encoding_format', message: 'must be "float" or "base64"' };
  return checkInput(body.input, 'input');
}

function checkCommon(body: Record<string, unknown>): BodyProblem | undefined {
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') return { param: 'stream', message: 'must be a boolean' };
  if (body.stream_options !== undefined && body.stream_options !== null && !isObject(body.stream_options)) return { param: 'stream_options', message: 'must be an object' };
  for (const f of ['max_tokens', 'max_completion_tokens'] as const) {
    const v = body[f];
    if (v !== undefined && v !== null && !(isInt(v) && v >= 0)) return { param: f, message: 'must be a non-negative integer' };
  }
  for (const [f, max] of [['n', 128], ['best_of', 128]] as const) {
    const v = body[f];
    if (v !== undefined && v !== null && !(isInt(v) && v >= 1 && v <= max)) return { param: f, message: `must be an integer from 1 to ${max}` };
  }
  for (const f of ['tools', 'functions'] as const) {
    const v = body[f];
    if (v !== undefined && v !== null && !Array.isArray(v)) return { param: f, message: 'must be an array' };
  }
  return undefined;
}

function checkMessages(messages: unknown): BodyProblem | undefined {
  if (!Array.isArray(messages) || messages.length === 0) return { param: 'messages', message: 'must be a non-empty array of messages' };
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i];
    const at = `messages[${i}]`;
    if (!isObject(m)) return { param: at, message: 'must be an object with a role and content' };
    if (typeof m.role !== 'string') return { param: `${at}.role`, message: 'must be a string' };
    if (m.name !== undefined && m.name !== null && typeof m.name !== 'string') return { param: `${at}.name`, message: 'must be a string' };
    const c = m.content;
    if (c === undefined || c === null || typeof c === 'string') continue;
    if (!Array.isArray(c)) return { param: `${at}.content`, message: 'must be a string, an array of content parts, or null' };
    for (let j = 0; j < c.length; j++) {
      const part: unknown = c[j];
      if (!isObject(part) || typeof part.type !== 'string') return { param: `${at}.content[${j}]`, message: 'must be an object with a string type' };
      if (part.type === 'text' && typeof part.text !== 'string') return { param: `${at}.content[${j}].text`, message: 'must be a string' };
    }
  }
  return undefined;
}

/** Anthropic Messages (and count_tokens, which has no max_tokens): the fields Tollgate reads. */
function checkAnthropic(body: Record<string, unknown>, needsMax: boolean): BodyProblem | undefined {
  if (needsMax && !(isInt(body.max_tokens) && body.max_tokens >= 1)) return { param: 'max_tokens', message: 'is required: a positive integer' };
  const sys = body.system;
  if (sys !== undefined && sys !== null && typeof sys !== 'string' && !Array.isArray(sys)) return { param: 'system', message: 'must be a string or an array of text blocks' };
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return { param: 'messages', message: 'must be a non-empty array of messages' };
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i];
    const at = `messages[${i}]`;
    if (!isObject(m)) return { param: at, message: 'must be an object with a role and content' };
    if (m.role !== 'user' && m.role !== 'assistant') return { param: `${at}.role`, message: 'must be "user" or "assistant"' };
    const c = m.content;
    if (typeof c === 'string') continue;
    if (!Array.isArray(c)) return { param: `${at}.content`, message: 'must be a string or an array of content blocks' };
    for (let j = 0; j < c.length; j++) {
      const block: unknown = c[j];
      if (!isObject(block) || typeof block.type !== 'string') return { param: `${at}.content[${j}]`, message: 'must be an object with a string type' };
      if (block.type === 'text' && typeof block.text !== 'string') return { param: `${at}.content[${j}].text`, message: 'must be a string' };
    }
  }
  return undefined;
}

/** OpenAI Responses: input is a string or a list of input items. */
function checkResponses(body: Record<string, unknown>): BodyProblem | undefined {
  const input = body.input;
  if (input === undefined || input === null) return { param: 'input', message: 'input is required: a string or an array of input items' };
  if (typeof input !== 'string' && !Array.isArray(input)) return { param: 'input', message: 'must be a string or an array of input items' };
  if (Array.isArray(input)) {
    for (let i = 0; i < input.length; i++) if (!isObject(input[i])) return { param: `input[${i}]`, message: 'must be an input item object' };
  }
  const max = body.max_output_tokens;
  if (max !== undefined && max !== null && !(isInt(max) && max >= 0)) return { param: 'max_output_tokens', message: 'must be a non-negative integer' };
  if (body.instructions !== undefined && body.instructions !== null && typeof body.instructions !== 'string') return { param: 'instructions', message: 'must be a string' };
  return undefined;
}

/** Gemini generateContent: contents of parts, and the generation config Tollgate bounds cost with. */
function checkGemini(body: Record<string, unknown>): BodyProblem | undefined {
  const contents = body.contents;
  if (!Array.isArray(contents) || contents.length === 0) return { param: 'contents', message: 'must be a non-empty array of contents' };
  for (let i = 0; i < contents.length; i++) {
    const c: unknown = contents[i];
    if (!isObject(c) || !Array.isArray(c.parts)) return { param: `contents[${i}].parts`, message: 'must be an array of parts' };
  }
  const g = body.generationConfig ?? body.generation_config;
  if (g === undefined || g === null) return undefined;
  if (!isObject(g)) return { param: 'generationConfig', message: 'must be an object' };
  const max = g.maxOutputTokens ?? g.max_output_tokens;
  if (max !== undefined && max !== null && !(isInt(max) && max >= 0)) return { param: 'generationConfig.maxOutputTokens', message: 'must be a non-negative integer' };
  const n = g.candidateCount ?? g.candidate_count;
  if (n !== undefined && n !== null && !(isInt(n) && n >= 1 && n <= 8)) return { param: 'generationConfig.candidateCount', message: 'must be an integer from 1 to 8' };
  return undefined;
}

/** prompt / input: a string, an array of strings, an array of token ids, or an array of those. */
function checkInput(v: unknown, param: string): BodyProblem | undefined {
  if (typeof v === 'string') return undefined;
  if (!Array.isArray(v)) return { param, message: 'must be a string, an array of strings, or an array of token arrays' };
  if (v.length === 0) return { param, message: 'must not be empty' };
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    if (typeof x === 'string' || isInt(x)) continue;
    if (Array.isArray(x) && x.length > 0 && x.every(isInt)) continue;
    return { param: `${param}[${i}]`, message: 'must be a string, a token id, or an array of token ids' };
  }
  return undefined;
}

/** The path of the first value nested deeper than MAX_DEPTH, or undefined. */
function tooDeep(v: unknown, depth: number): string | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  if (depth > MAX_DEPTH) return '';
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = tooDeep(v[i], depth + 1);
      if (p !== undefined) return `[${i}]${p}`;
    }
    return undefined;
  }
  for (const k in v) {
    const p = tooDeep((v as Record<string, unknown>)[k], depth + 1);
    if (p !== undefined) return depth === 1 ? k + p : `.${k}${p}`;
  }
  return undefined;
}
