// The demo model (TOLLGATE_DEMO=1): `tollgate-demo`, answered in this process, so a first run
// works before any provider key exists. It is an OpenAI-compatible deployment like any other —
// the base adapter (plus OpenAI's Responses passthrough), a base URL, a $0 price — whose base URL
// `demo://local/v1` http-pool.ts maps to an in-process Dispatcher (./dispatcher.ts) instead of a
// connection pool. Anthropic clients reach it through the same Messages → chat translation as
// every OpenAI-compatible provider.
// The Router serves demoRoute() for `tollgate-demo` when config.demo is on and no explicit route
// names the model; it is never stored, so no credential can name the provider 'demo'.
import type { ModelPrice } from '../../config.ts';
import type { Exchange, ExchangeInput, ModelRoute, ProviderSpec, ResolvedRoute } from '../types.ts';
import { OpenAICompatibleAdapter } from '../openai-compatible/adapter.ts';
import { responsesExchange } from '../openai/responses.ts';
import { DEMO_BASE_URL, DEMO_CREDENTIAL_ID } from './dispatcher.ts';

export { DEMO_BASE_URL, DEMO_CREDENTIAL_ID } from './dispatcher.ts';

export const DEMO_MODEL = 'tollgate-demo';
export const DEMO_PROVIDER = 'demo';

/** Priced explicitly at $0: metered and logged as free, never flagged "unpriced". */
export const DEMO_PRICE: ModelPrice = { input: 0, output: 0, cachedInput: 0, maxOutputTokens: 256 };

/** The OpenAI-compatible base, plus the Responses API passed through as OpenAI's is (Codex CLI works on the demo too). */
class DemoAdapter extends OpenAICompatibleAdapter {
  constructor() {
    super(DEMO_PROVIDER);
  }

  protected override responses(input: ExchangeInput): Exchange {
    return responsesExchange(input, this.path('responses', input.route), this.headers(input.route));
  }
}

export const specs: ProviderSpec[] = [
  {
    id: DEMO_PROVIDER,
    label: 'Tollgate demo model (TOLLGATE_DEMO=1, answers locally)',
    adapter: new DemoAdapter(),
    defaultBaseUrl: DEMO_BASE_URL,
    native: ['chat/completions', 'completions', 'embeddings', 'responses'],
    translated: ['messages', 'messages/count_tokens'],
  },
];

const deployment: ResolvedRoute = {
  deploymentId: 0,
  credentialId: DEMO_CREDENTIAL_ID,
  provider: DEMO_PROVIDER,
  baseUrl: DEMO_BASE_URL,
  // Not a secret: the in-process dispatcher checks nothing.
  apiKey: 'tollgate-demo',
  options: {},
  upstreamModel: DEMO_MODEL,
  price: DEMO_PRICE,
  weight: 1,
  priority: 0,
};

// One object for the process: adapters cache per-route work (headers) on the route object.
const route: ModelRoute = { model: DEMO_MODEL, deployments: [deployment], timeoutMs: undefined, retries: 0, boundPrice: DEMO_PRICE };

/** The route the Router serves for `tollgate-demo` when the demo is on and no explicit route names it. */
export function demoRoute(): ModelRoute {
  return route;
}
