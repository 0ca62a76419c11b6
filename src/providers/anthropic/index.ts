// Provider specs of this folder (see ../registry.ts): Anthropic's Messages API.
import type { ProviderSpec } from '../types.ts';
import { AnthropicAdapter } from './adapter.ts';

export const specs: ProviderSpec[] = [
  {
    id: 'anthropic',
    label: 'Anthropic',
    adapter: new AnthropicAdapter(),
    defaultBaseUrl: 'https://api.anthropic.com/v1',
    native: ['messages', 'messages/count_tokens'],
    translated: ['chat/completions'],
  },
];
