// Provider specs of this folder (see ../registry.ts): the OpenAI-compatible base, for any server
// that speaks OpenAI's wire format at a base URL.
import type { ProviderSpec } from '../types.ts';
import { OpenAICompatibleAdapter } from './adapter.ts';

export { OpenAICompatibleAdapter } from './adapter.ts';

export const specs: ProviderSpec[] = [
  {
    id: 'openai-compatible',
    label: 'OpenAI-compatible (custom base URL)',
    adapter: new OpenAICompatibleAdapter('openai-compatible'),
    native: ['chat/completions', 'completions', 'embeddings'],
    translated: ['messages', 'messages/count_tokens'],
  },
];
