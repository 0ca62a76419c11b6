// The client APIs measured besides OpenAI chat passthrough (issue 13), each on an embedded
// Tollgate of its own, with the same prompt and the same canned answer (bench/lib/canned.ts):
//
//   responses            POST /v1/responses → OpenAI upstream /v1/responses: passthrough, usage
//                        read from response.completed (what Codex CLI sends)
//   messages-translated  POST /v1/messages (Anthropic) → OpenAI upstream /v1/chat/completions:
//                        request, answer and every stream event translated (Claude Code pointed at
//                        a model an OpenAI-compatible provider serves)
//   messages-native      POST /v1/messages → Anthropic upstream /v1/messages: passthrough, the
//                        floor messages-translated is compared with
//   chat-anthropic       POST /v1/chat/completions → Anthropic upstream: the other translation
//                        (an OpenAI SDK app on a Claude model)
//
// The Anthropic scenarios authenticate with `x-api-key` and send `anthropic-version`, as Claude
// Code does with ANTHROPIC_API_KEY.

export const SYSTEM = 'You are a concise assistant for an internal engineering platform. Answer in plain English, cite files by path.';
export const PROMPT = 'Summarize the trade-offs between optimistic and pessimistic locking for a budget ledger that many replicas update concurrently, in five bullet points. '.repeat(2);
export const messages = [
  { role: 'system', content: SYSTEM },
  { role: 'user', content: PROMPT },
];

/** The Anthropic-format upstream's model (priced through the config file, see run.ts). */
export const CLAUDE = 'claude-sonnet-4-5';

export interface ApiScenario {
  /** the /v1 path requests go to */
  path: string;
  /** the three request bodies run.ts sends: whole answer, stream, and a stream with 2 ms between upstream events (TTFB) */
  body: { plain: string; stream: string; ttfb: string };
  /** the key in this header instead of `authorization: Bearer`, plus any other headers */
  keyHeader?: string;
  headers?: Record<string, string>;
  /** the model the key must be allowed */
  model: string;
  /** an Anthropic credential at the upstream serves `model` (else the start-up OpenAI credential's catch-all) */
  anthropicUpstream: boolean;
}

const chat = (model: string) => ({
  plain: JSON.stringify({ model, messages, max_tokens: 256, temperature: 0.2 }),
  stream: JSON.stringify({ model, messages, max_tokens: 256, temperature: 0.2, stream: true }),
  ttfb: JSON.stringify({ model, messages, max_tokens: 256, stream: true, user: 'delay-2' }),
});

const anthropicMessages = (model: string) => {
  const base = { model, system: SYSTEM, messages: [{ role: 'user', content: PROMPT }], max_tokens: 256 };
  return {
    plain: JSON.stringify({ ...base, temperature: 0.2 }),
    stream: JSON.stringify({ ...base, temperature: 0.2, stream: true }),
    ttfb: JSON.stringify({ ...base, stream: true, metadata: { user_id: 'delay-2' } }),
  };
};

const responses = (model: string) => {
  const base = { model, instructions: SYSTEM, input: PROMPT, max_output_tokens: 256 };
  return {
    plain: JSON.stringify({ ...base, temperature: 0.2 }),
    stream: JSON.stringify({ ...base, temperature: 0.2, stream: true }),
    ttfb: JSON.stringify({ ...base, stream: true, user: 'delay-2' }),
  };
};

const ANTHROPIC_HEADERS = { 'anthropic-version': '2023-06-01' };

export const SCENARIOS = {
  responses: { path: '/v1/responses', body: responses('gpt-4o-mini'), model: 'gpt-4o-mini', anthropicUpstream: false },
  'messages-translated': { path: '/v1/messages', body: anthropicMessages('gpt-4o-mini'), keyHeader: 'x-api-key', headers: ANTHROPIC_HEADERS, model: 'gpt-4o-mini', anthropicUpstream: false },
  'messages-native': { path: '/v1/messages', body: anthropicMessages(CLAUDE), keyHeader: 'x-api-key', headers: ANTHROPIC_HEADERS, model: CLAUDE, anthropicUpstream: true },
  'chat-anthropic': { path: '/v1/chat/completions', body: chat(CLAUDE), model: CLAUDE, anthropicUpstream: true },
} satisfies Record<string, ApiScenario>;

export type ApiScenarioName = keyof typeof SCENARIOS;
export const API_SCENARIOS = Object.keys(SCENARIOS) as ApiScenarioName[];
export const CHAT_BODY = chat('gpt-4o-mini');
