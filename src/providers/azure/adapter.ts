// Azure OpenAI: OpenAI's wire format at deployment URLs.
//   chat/completions, completions, embeddings:
//     {base}/openai/deployments/{deployment}/{endpoint}?api-version={api_version}
//   Responses API (Azure's v1 API, no api-version): {base}/openai/v1/responses, model = deployment
// The route's upstream model IS the deployment name (mapped into `model` too, as everywhere: Azure
// ignores it there). The secret goes in an `api-key` header; Azure's errors are
// OpenAI-shaped, so the base's error mapping holds.
// https://learn.microsoft.com/azure/ai-foundry/openai/reference
import type { Endpoint, Exchange, ExchangeInput, ResolvedRoute } from '../types.ts';
import { OpenAICompatibleAdapter } from '../openai-compatible/adapter.ts';
import { responsesExchange } from '../openai/responses.ts';
import type { ChatDialect } from '../translate/anthropic-request-to-chat.ts';

/** `2024-10-21` or `2025-04-01-preview`: what Azure accepts as api-version. */
export const API_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;

export class AzureOpenAIAdapter extends OpenAICompatibleAdapter {
  /** The deployment paths of a route, built once per cached route (they hold its api-version). */
  private readonly pathsOf = new WeakMap<ResolvedRoute, Map<Endpoint, string>>();
  // Claude Code's Messages translated to chat: Azure's reasoning deployments refuse max_tokens.
  protected override readonly chatDialect: ChatDialect = { maxCompletionTokens: true };

  constructor() {
    super('azure');
  }

  protected override buildHeaders(route: ResolvedRoute): Record<string, string> {
    return { 'content-type': 'application/json', 'api-key': route.apiKey, accept: 'application/json, text/event-stream' };
  }

  override path(endpoint: Endpoint, route: ResolvedRoute): string {
    if (endpoint === 'responses') return '/openai/v1/responses';
    let paths = this.pathsOf.get(route);
    if (!paths) this.pathsOf.set(route, (paths = new Map()));
    let p = paths.get(endpoint);
    if (p === undefined) {
      p = `/openai/deployments/${encodeURIComponent(route.upstreamModel)}/${endpoint}?api-version=${encodeURIComponent(route.options.api_version ?? '')}`;
      paths.set(endpoint, p);
    }
    return p;
  }

  protected override responses(input: ExchangeInput): Exchange {
    return responsesExchange(input, this.path('responses', input.route), this.headers(input.route));
  }

  override modelsRequest(route: ResolvedRoute): { path: string; headers: Record<string, string> } {
    // the models the resource can deploy (Azure lists deployments only through its management API)
    return { path: '/openai/v1/models', headers: this.headers(route) };
  }
}
