// The answer every API of the bench upstream (bench/upstream.ts) gives, in each wire format: the
// same 96 prompt tokens, 100 completion tokens and 18 content events, so the scenarios differ only
// in what Tollgate does with them (relay, or translate).
export const CONTENT_EVENTS = 18;
export const PROMPT_TOKENS = 96;
export const COMPLETION_TOKENS = 100;
export const CREATED = 1_750_000_000;
export const WORDS = Array.from({ length: COMPLETION_TOKENS }, (_, i) => `word${i}`).join(' ');

/** The completion split into CONTENT_EVENTS pieces, as a stream delivers it. */
export function pieces(): string[] {
  const per = Math.ceil(COMPLETION_TOKENS / CONTENT_EVENTS);
  return Array.from({ length: CONTENT_EVENTS }, (_, i) => Array.from({ length: per }, (_, j) => ` word${i * per + j}`).join(''));
}

/** An SSE event with an `event:` line (Anthropic, Responses) or without (OpenAI chat). */
export const sse = (data: unknown, event?: string): string => `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`;
