// Provider specs of this folder (see ../registry.ts).
import type { ProviderSpec } from '../types.ts';

export const specs: ProviderSpec[] = [];
