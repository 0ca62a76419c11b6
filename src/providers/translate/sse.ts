// SSE plumbing shared by the translations: one event's `data:` payload, one event written out.
// A translation must read every event it rewrites, so these decode; the passthrough meters do not.

/** The `data:` payload of one SSE event (several data lines joined by \n, as the SSE spec says). */
export function eventData(event: Buffer): string | undefined {
  const text = event.toString('utf8');
  // OpenAI's events: one data line and nothing else
  if (text.startsWith('data: ') && !text.includes('\n')) return text.slice(6);
  let data: string | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith('data:')) continue;
    const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
    data = data === undefined ? value : `${data}\n${value}`;
  }
  return data;
}

/** The event's JSON object, or undefined (no data, `[DONE]`, not JSON, not an object). */
export function eventJson(data: string | undefined): Record<string, unknown> | undefined {
  if (data === undefined || data.charCodeAt(0) !== 123 /* { */) return undefined;
  try {
    const v: unknown = JSON.parse(data);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** An Anthropic-style named event: `event: <type>` then its data, ending with the blank line. */
export const namedEvent = (data: Json & { type: string }): string => `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;

/** An OpenAI-style event: data only. */
export const dataEvent = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`;

export const DONE_EVENT = 'data: [DONE]\n\n';

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A non-negative integer count, else 0 (an upstream's absurd value is not metered). */
export const count = (v: unknown): number => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0);

/** Parses a whole JSON answer (non-streamed answers are small); undefined when not an object. */
export function parseObject(buf: Buffer): Json | undefined {
  try {
    const v: unknown = JSON.parse(buf.toString('utf8'));
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
