// What the hot path knows about a provider. Shared types never import from a provider folder.
import type { ModelPrice } from '../config.ts';

export interface Usage {
  tokensIn: number;
  tokensOut: number;
  /** of tokensIn, served from the provider's prompt cache (when reported) */
  cachedTokens?: number;
  /** of tokensOut, spent reasoning (when reported) */
  reasoningTokens?: number;
}

/** A model resolved to the credential and upstream that serve it. */
export interface ResolvedRoute {
  credentialId: number;
  provider: string;
  /** e.g. https://api.openai.com/v1 */
  baseUrl: string;
  /** decrypted provider secret: lives only in memory */
  apiKey: string;
  upstreamModel: string;
  price: ModelPrice | undefined;
}

/** Reads usage out of a streamed response, one SSE event at a time. */
export interface StreamMeter {
  /** Inspects one complete SSE event (its bytes, without the blank line). Returns false to drop it. */
  onEvent(event: Buffer): boolean;
  /** the stream's own end marker was seen (OpenAI: `data: [DONE]`): it was not cut short */
  readonly completed: boolean;
  /** Usage as reported, or estimated from what was seen when the stream ended early. */
  result(): { usage: Usage; estimated: boolean };
}
