// The fake upstream's Google Gemini (generateContent / streamGenerateContent, and its OpenAI-compatible endpoint).
import type { FakeRoute } from './fake-upstream.ts';

export const geminiRoutes: FakeRoute[] = [];
