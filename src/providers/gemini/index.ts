// Provider specs of this folder (see ../registry.ts): Google Gemini (the Gemini API, AI Studio keys).
import type { ProviderSpec } from '../types.ts';
import { GeminiAdapter } from './adapter.ts';

export const specs: ProviderSpec[] = [
  {
    id: 'gemini',
    label: 'Google Gemini',
    adapter: new GeminiAdapter(),
    defaultBaseUrl: 'https://generativelanguage.googleapis.com/v1beta',
    native: ['chat/completions', 'embeddings', 'generateContent'],
    translated: ['messages', 'messages/count_tokens'],
  },
];
