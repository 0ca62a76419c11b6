// The fake upstream's OpenAI Responses API (POST /v1/responses, JSON and its SSE event sequence).
import type { FakeRoute } from './fake-upstream.ts';

export const responsesRoutes: FakeRoute[] = [];
