// Anthropic's usage, as its answers and streams report it, in Tollgate's terms. Anthropic's
// input_tokens excludes the prompt-cache reads and writes; Tollgate's tokensIn is the whole prompt:
//   tokensIn = input_tokens + cache_read_input_tokens + cache_creation_input_tokens
//   cachedTokens = cache_read_input_tokens (cache writes are billed at least as input)
import type { Usage } from '../types.ts';
import { count, isObject } from './sse.ts';

export function usageOfAnthropic(u: unknown): Usage | undefined {
  if (!isObject(u) || typeof u.input_tokens !== 'number') return undefined;
  const read = count(u.cache_read_input_tokens);
  const usage: Usage = { tokensIn: count(u.input_tokens) + read + count(u.cache_creation_input_tokens), tokensOut: count(u.output_tokens) };
  if (read > 0) usage.cachedTokens = read;
  return usage;
}

/**
 * A stream's usage as its events report it: message_start carries the prompt's counts (and a
 * provisional output count), message_delta the final cumulative counts (its input and cache counts
 * overwrite when present, as the official SDKs do). Cut short, the output is estimated from the
 * content deltas seen (one token each, about what Anthropic sends per delta).
 */
export class AnthropicUsageTracker {
  private input = 0;
  private cacheRead = 0;
  private cacheCreation = 0;
  private output = 0;
  private started = false;
  private final = false;
  deltas = 0;

  onStart(message: unknown): void {
    const u = isObject(message) ? message.usage : undefined;
    if (!isObject(u)) return;
    this.started = true;
    this.input = count(u.input_tokens);
    this.cacheRead = count(u.cache_read_input_tokens);
    this.cacheCreation = count(u.cache_creation_input_tokens);
    this.output = count(u.output_tokens);
  }

  onDelta(u: unknown): void {
    if (!isObject(u)) return;
    this.final = true;
    if (typeof u.output_tokens === 'number') this.output = count(u.output_tokens);
    if (typeof u.input_tokens === 'number') this.input = count(u.input_tokens);
    if (typeof u.cache_read_input_tokens === 'number') this.cacheRead = count(u.cache_read_input_tokens);
    if (typeof u.cache_creation_input_tokens === 'number') this.cacheCreation = count(u.cache_creation_input_tokens);
    this.started = true;
  }

  result(promptEstimate: number): { usage: Usage; estimated: boolean } {
    if (!this.started) return { usage: { tokensIn: promptEstimate, tokensOut: this.deltas }, estimated: true };
    const usage: Usage = { tokensIn: this.input + this.cacheRead + this.cacheCreation, tokensOut: this.final ? this.output : Math.max(this.output, this.deltas) };
    if (this.cacheRead > 0) usage.cachedTokens = this.cacheRead;
    return { usage, estimated: !this.final };
  }
}
