// The fake upstream's OpenRouter's key management API (provisioning keys: /api/v1/keys).
import type { FakeRoute } from './fake-upstream.ts';

export const openrouterRoutes: FakeRoute[] = [];
