// Every provider Tollgate can forward to, by id: its adapter and what a credential for it needs.
// Each folder exports its ProviderSpec list; nothing else in the hot path knows a provider's name.
import type { ProviderAdapter, ProviderSpec } from './types.ts';
import { specs as openaiCompatible } from './openai-compatible/index.ts';
import { specs as openai } from './openai/index.ts';
import { specs as presets } from './presets/index.ts';
import { specs as anthropic } from './anthropic/index.ts';
import { specs as azure } from './azure/index.ts';
import { specs as gemini } from './gemini/index.ts';
import { specs as demo } from './demo/index.ts';
import { specs as openrouterProvisioning } from './openrouter-provisioning/index.ts';

export const PROVIDERS: ReadonlyMap<string, ProviderSpec> = new Map(
  [...openai, ...openaiCompatible, ...presets, ...anthropic, ...azure, ...gemini, ...demo, ...openrouterProvisioning].map((s) => [s.id, s]),
);

/** The ids a credential may name (the demo provider is not one: it is never stored). */
export const CREDENTIAL_PROVIDERS: string[] = [...PROVIDERS.keys()].filter((id) => id !== 'demo');

/** The adapter for a provider id; an id no longer known is served as OpenAI-compatible. */
export function adapterFor(provider: string): ProviderAdapter {
  return (PROVIDERS.get(provider) ?? PROVIDERS.get('openai-compatible')!).adapter;
}
