// Google Gemini: chat/completions and embeddings through Gemini's OpenAI-compatible endpoint
// ({base}/openai/…, Bearer auth), and Gemini's own generateContent / streamGenerateContent passed
// through ({base}/models/{model}:…, `x-goog-api-key`). https://ai.google.dev/gemini-api/docs/openai
import type { Endpoint, Exchange, ExchangeInput, ResolvedRoute, UnsupportedEndpoint } from '../types.ts';
import { OpenAICompatibleAdapter } from '../openai-compatible/adapter.ts';
import { GeminiStreamMeter, geminiErrorMessage, mapGenerateContent, nativeBody, nativePath, normalizeGeminiError } from './native.ts';

export class GeminiAdapter extends OpenAICompatibleAdapter {
  /** The native API's headers, once per cached route (the base caches the OpenAI-style ones). */
  private readonly nativeHeadersOf = new WeakMap<ResolvedRoute, Record<string, string>>();

  constructor() {
    super('gemini');
  }

  override exchange(input: ExchangeInput): Exchange | UnsupportedEndpoint {
    // Gemini's OpenAI-compatible endpoint has chat and embeddings, not the legacy completions.
    if (input.endpoint === 'completions') return { unsupported: 'The legacy completions API (/v1/completions) is not served by the gemini provider; use /v1/chat/completions.' };
    return super.exchange(input);
  }

  override path(endpoint: Endpoint, _route: ResolvedRoute): string {
    return `/openai/${endpoint}`;
  }

  protected override generateContent(input: ExchangeInput): Exchange {
    const { route, stream } = input;
    return {
      path: nativePath(route.upstreamModel, stream), headers: this.nativeHeaders(route), body: nativeBody(input), stream,
      meter: new GeminiStreamMeter(input.promptEstimate), mapJson: mapGenerateContent,
    };
  }

  override errorMessage(_status: number, text: string): string | undefined {
    return geminiErrorMessage(text);
  }

  normalizeError(status: number, text: string): { status: number; text: string } {
    return normalizeGeminiError(status, text);
  }

  /** Gemini's own list (`models: [{name: "models/…", displayName}]`): the names its native API takes. */
  override modelsRequest(route: ResolvedRoute): { path: string; headers: Record<string, string> } {
    return { path: '/models', headers: this.nativeHeaders(route) };
  }

  private nativeHeaders(route: ResolvedRoute): Record<string, string> {
    let headers = this.nativeHeadersOf.get(route);
    if (!headers) this.nativeHeadersOf.set(route, (headers = { 'content-type': 'application/json', 'x-goog-api-key': route.apiKey, accept: 'application/json, text/event-stream' }));
    return headers;
  }
}
