// Provider specs of this folder (see ../registry.ts): OpenAI-compatible services at a known base
// URL. Each is the OpenAI-compatible base under its own id (so it is named in logs, the
// dashboard and the price book); DeepSeek adds its prompt-cache usage names, Mistral takes no
// stream_options.
import type { ProviderSpec } from '../types.ts';
import { OpenAICompatibleAdapter } from '../openai-compatible/adapter.ts';
import { DeepSeekAdapter } from './deepseek.ts';
import { MistralAdapter } from './mistral.ts';

const CHAT_ONLY = ['chat/completions', 'completions', 'embeddings'] as const;

function preset(id: string, label: string, defaultBaseUrl: string | undefined, adapter = new OpenAICompatibleAdapter(id)): ProviderSpec {
  return { id, label, adapter, defaultBaseUrl, native: [...CHAT_ONLY], translated: ['messages', 'messages/count_tokens'] };
}

export const specs: ProviderSpec[] = [
  preset('openrouter', 'OpenRouter', 'https://openrouter.ai/api/v1'),
  preset('groq', 'Groq', 'https://api.groq.com/openai/v1'),
  preset('together', 'Together AI', 'https://api.together.xyz/v1'),
  preset('mistral', 'Mistral AI', 'https://api.mistral.ai/v1', new MistralAdapter()),
  preset('deepseek', 'DeepSeek', 'https://api.deepseek.com/v1', new DeepSeekAdapter()),
  preset('fireworks', 'Fireworks AI', 'https://api.fireworks.ai/inference/v1'),
  preset('xai', 'xAI', 'https://api.x.ai/v1'),
  // self-hosted: a vLLM server has no address Tollgate could guess
  preset('vllm', 'vLLM', undefined),
  preset('ollama', 'Ollama', 'http://localhost:11434/v1'),
  preset('lmstudio', 'LM Studio', 'http://localhost:1234/v1'),
];
