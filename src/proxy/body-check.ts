// Validates a /v1 request body before anything is admitted or sent upstream: the fields Tollgate
// itself reads (to route, bound the cost, and prepare the stream) must have the shape the OpenAI
// API documents, and no value may be nested deeper than MAX_DEPTH. A malformed body is a 400 that
// names the field; everything else passes through to the provider untouched.
//
// The walk visits values, not bytes (a 100 KB string is one step), so a normal chat body costs
// well under a microsecond.
import type { Endpoint } from '../providers/openai-compatible/adapter.ts';
import { MAX_DEPTH } from '../http/validate.ts';


export type BodyProblem = { param: string; message: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** The first problem found in a parsed body, or undefined when Tollgate can work with it. */
export function checkBody(endpoint: Endpoint, body: Record<string, unknown>): BodyProblem | undefined {
  const deep = tooDeep(body, 1);
  if (deep !== undefined) return { param: deep, message: `JSON is nested more than ${MAX_DEPTH} levels deep` };
  const model = body.model;
  if (typeof model !== 'string' || model === '') return { param: 'model', message: 'a model name is required' };
  // The name is logged and routed on: printable, well-formed (no lone surrogate, no NUL), bounded.
  if (model.length > 256 || !model.isWellFormed() || model.includes('\u0000')) return { param: 'model', message: 'must be a model name of at most 256 well-formed characters' };
  const common = checkCommon(body);
  if (common) return common;
  if (endpoint === 'chat/completions') return checkMessages(body.messages);
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
