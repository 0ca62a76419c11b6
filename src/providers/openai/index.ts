// Provider specs of this folder (see ../registry.ts): OpenAI, with the Responses API.
import type { ProviderSpec } from '../types.ts';
import { OpenAIAdapter } from './adapter.ts';

export const specs: ProviderSpec[] = [
  {
    id: 'openai',
    label: 'OpenAI',
    adapter: new OpenAIAdapter(),
    defaultBaseUrl: 'https://api.openai.com/v1',
    native: ['chat/completions', 'completions', 'embeddings', 'responses'],
    translated: ['messages', 'messages/count_tokens'],
  },
];
