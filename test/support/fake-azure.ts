// The fake upstream's Azure OpenAI (deployment URLs with api-version, the api-key header).
import type { FakeRoute } from './fake-upstream.ts';

export const azureRoutes: FakeRoute[] = [];
