// An OpenRouter provisioning (management) key: it creates, updates and deletes OpenRouter API keys
// (src/provisioning/), and OpenRouter refuses it on every model endpoint. So it serves no /v1 API:
// a route pointed at it answers that it is unsupported instead of sending a request bound to fail.
import type { ProviderAdapter, ProviderSpec } from '../types.ts';

const adapter: ProviderAdapter = {
  provider: 'openrouter-provisioning',
  exchange: (input) => ({
    unsupported: `${input.endpoint}: an OpenRouter provisioning key manages keys (POST /api/me/provisioned-keys) and cannot call models; route this model to an 'openrouter' credential`,
  }),
  errorMessage: () => undefined,
};

export const specs: ProviderSpec[] = [
  {
    id: 'openrouter-provisioning',
    label: 'OpenRouter provisioning key',
    adapter,
    defaultBaseUrl: 'https://openrouter.ai/api/v1',
    native: [],
    translated: [],
  },
];
