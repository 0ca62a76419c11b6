// Usage of a whole (non-streamed) Anthropic message, read without parsing the whole body: the
// message ends with its `"usage": {…}` object, which alone is cut out and parsed. Anything
// unexpected falls back to parsing the body (non-streamed bodies are small).
import type { Usage } from '../types.ts';
import { usageOfAnthropic } from '../translate/anthropic-usage.ts';
import { parseObject } from '../translate/sse.ts';

const USAGE = Buffer.from('"usage"');
const QUOTE = 34, BACKSLASH = 92, BRACE = 123, CLOSE_BRACE = 125;

export function anthropicAnswerUsage(buf: Buffer): Usage | undefined {
  const at = buf.lastIndexOf(USAGE);
  if (at > 0 && buf[at - 1] !== BACKSLASH) {
    const object = objectAfter(buf, at + USAGE.length);
    if (object) {
      try {
        return usageOfAnthropic(JSON.parse(object.toString('utf8')));
      } catch {
        // fall through to the whole body
      }
    }
  }
  return usageOfAnthropic(parseObject(buf)?.usage);
}

/** The `{…}` object that starts after the key's colon (strings skipped when matching braces). */
function objectAfter(buf: Buffer, from: number): Buffer | undefined {
  const start = buf.indexOf(BRACE, from);
  if (start === -1 || start - from > 8) return undefined;
  let depth = 0;
  for (let i = start; i < buf.length; i++) {
    const ch = buf[i];
    if (ch === QUOTE) {
      for (i++; i < buf.length && buf[i] !== QUOTE; i++) if (buf[i] === BACKSLASH) i++;
    } else if (ch === BRACE) depth++;
    else if (ch === CLOSE_BRACE && --depth === 0) return buf.subarray(start, i + 1);
  }
  return undefined;
}
