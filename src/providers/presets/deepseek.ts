// DeepSeek reports its prompt cache in its own names next to OpenAI's usage:
//   { prompt_tokens, completion_tokens, prompt_cache_hit_tokens, prompt_cache_miss_tokens,
//     completion_tokens_details: { reasoning_tokens } }
// (https://api-docs.deepseek.com/guides/kv_cache). The cache hits become cachedTokens when the
// answer has no prompt_tokens_details of its own; everything else is the OpenAI base.
import type { Exchange, ExchangeInput, MappedAnswer, StreamMeter, Usage } from '../types.ts';
import { OpenAICompatibleAdapter } from '../openai-compatible/adapter.ts';

const CACHE_HIT = Buffer.from('"prompt_cache_hit_tokens"');

/** The prompt_cache_hit_tokens count on the bytes (the last one: the usage object's), or 0. */
export function cacheHits(buf: Buffer): number {
  const at = buf.lastIndexOf(CACHE_HIT);
  if (at === -1) return 0;
  let i = at + CACHE_HIT.length;
  while (buf[i] === 32 || buf[i] === 58) i++;
  let n = 0;
  for (const start = i; buf[i]! >= 48 && buf[i]! <= 57 && i - start < 15; i++) n = n * 10 + (buf[i]! - 48);
  return n;
}

function withHits(usage: Usage, hits: number): Usage {
  if (hits === 0 || (usage.cachedTokens ?? 0) > 0) return usage;
  return { ...usage, cachedTokens: Math.min(hits, usage.tokensIn), reasoningTokens: usage.reasoningTokens ?? 0 };
}

/** Wraps the base meter: the usage chunk is the only event that names the cache hits. */
class DeepSeekMeter implements StreamMeter {
  private hits = 0;
  private readonly inner: StreamMeter;

  constructor(inner: StreamMeter) {
    this.inner = inner;
  }

  get completed(): boolean {
    return this.inner.completed;
  }

  onEvent(event: Buffer): boolean | string {
    if (event.includes(CACHE_HIT)) this.hits = cacheHits(event);
    return this.inner.onEvent(event);
  }

  result(): { usage: Usage; estimated: boolean } {
    const r = this.inner.result();
    return r.estimated ? r : { usage: withHits(r.usage, this.hits), estimated: false };
  }
}

export class DeepSeekAdapter extends OpenAICompatibleAdapter {
  constructor() {
    super('deepseek');
  }

  protected override passthrough(input: ExchangeInput): Exchange {
    const x = super.passthrough(input);
    const mapJson = x.mapJson;
    return {
      ...x,
      meter: new DeepSeekMeter(x.meter),
      mapJson: (buf: Buffer): MappedAnswer | undefined => {
        const mapped = mapJson(buf);
        return mapped?.usage ? { ...mapped, usage: withHits(mapped.usage, cacheHits(buf)) } : mapped;
      },
    };
  }
}
