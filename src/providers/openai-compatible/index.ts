// Provider specs of this folder (see ../registry.ts): the OpenAI-compatible base, for any server
// that speaks OpenAI's wire format at a base URL.
import type { ProviderSpec } from '../types.ts';

export const specs: ProviderSpec[] = [];
