// Provider specs of this folder (see ../registry.ts): Azure OpenAI.
import type { ProviderSpec } from '../types.ts';
import { API_VERSION, AzureOpenAIAdapter } from './adapter.ts';

export const specs: ProviderSpec[] = [
  {
    id: 'azure',
    label: 'Azure OpenAI',
    adapter: new AzureOpenAIAdapter(),
    // https://{resource}.openai.azure.com: per resource, so every credential names its own
    defaultBaseUrl: undefined,
    options: [{ name: 'api_version', required: true, description: 'Azure OpenAI api-version for deployment URLs: YYYY-MM-DD or YYYY-MM-DD-preview, e.g. 2024-10-21', pattern: API_VERSION }],
    native: ['chat/completions', 'completions', 'embeddings', 'responses'],
    translated: ['messages', 'messages/count_tokens'],
  },
];
