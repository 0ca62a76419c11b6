// Reading one small JSON object out of a large answer without parsing the answer: a byte search
// for its key, a scan to the object's matching brace (strings honoured), and a parse of that
// slice only. Used for the usage objects of Responses and Gemini answers, which sit next to the
// whole generated text (a Responses `response.completed` event repeats the entire output).
const QUOTE = 34, BACKSLASH = 92, BRACE = 123, CLOSE_BRACE = 125, COLON = 58;

const isSpace = (b: number | undefined) => b === 32 || b === 10 || b === 13 || b === 9;

/** Index just past the `}` that closes the object opening at `open`, or -1 when it does not close. */
function objectEnd(buf: Buffer, open: number): number {
  let depth = 0;
  for (let i = open; i < buf.length; i++) {
    const ch = buf[i];
    if (ch === QUOTE) {
      for (i++; i < buf.length && buf[i] !== QUOTE; i++) if (buf[i] === BACKSLASH) i++;
    } else if (ch === BRACE) depth++;
    else if (ch === CLOSE_BRACE && --depth === 0) return i + 1;
  }
  return -1;
}

/**
 * The object under `"key"` (given with its quotes, e.g. `"usage"`), searched from the end of `buf`
 * (answers put usage after the output), accepted only if `valid` says it is the one meant (a key of
 * the same name inside generated text or metadata is skipped). undefined when none is found.
 */
export function objectUnder<T>(buf: Buffer, key: Buffer, valid: (o: Record<string, unknown>) => T | undefined): T | undefined {
  for (let at = buf.lastIndexOf(key); at !== -1; at = at === 0 ? -1 : buf.lastIndexOf(key, at - 1)) {
    let i = at + key.length;
    while (isSpace(buf[i])) i++;
    if (buf[i] !== COLON) continue;
    i++;
    while (isSpace(buf[i])) i++;
    if (buf[i] !== BRACE) continue;
    const end = objectEnd(buf, i);
    if (end === -1) continue;
    try {
      const found = valid(JSON.parse(buf.toString('utf8', i, end)) as Record<string, unknown>);
      if (found !== undefined) return found;
    } catch {
      // a key inside a string that happened to be followed by braces: keep looking
    }
  }
  return undefined;
}

/** A non-negative integer count, 0 for anything else (absent, null, a string …). */
export const count = (v: unknown): number => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0);

/** The `data:` payload of one SSE event (its first data line), as bytes offsets into `event`. */
export function dataStart(event: Buffer): number {
  const DATA = 'data:';
  let at = event.indexOf(DATA);
  // `data:` at a line start only (an `event:` line comes first in named events)
  while (at > 0 && event[at - 1] !== 10) at = event.indexOf(DATA, at + 1);
  if (at === -1) return -1;
  at += DATA.length;
  if (event[at] === 32) at++;
  return at;
}
