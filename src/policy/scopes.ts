// Endpoint scopes of a key: which /v1 endpoints it may call. Stored and shown as one space-separated
// string ("*" by default, as in seed 000's key view; "chat embeddings" for two), accepted on
// write as that string or as a JSON list. Checked per request as one bit test.
import type { Endpoint } from '../providers/types.ts';

export const SCOPES = ['chat', 'completions', 'embeddings', 'responses', 'messages', 'models'] as const;
export type Scope = (typeof SCOPES)[number];

const BIT: Record<Scope, number> = { chat: 1, completions: 2, embeddings: 4, responses: 8, messages: 16, models: 32 };
export const ALL_SCOPES = 63;

/** The scope a /v1 endpoint needs. */
export const ENDPOINT_SCOPE: Record<Endpoint | 'models', Scope> = {
  'chat/completions': 'chat',
  completions: 'completions',
  embeddings: 'embeddings',
  responses: 'responses',
  // Anthropic's token counting belongs with the API it serves (a Claude Code key needs both)
  messages: 'messages',
  'messages/count_tokens': 'messages',
  // Gemini's native generateContent is a chat API in another wire format
  generateContent: 'chat',
  models: 'models',
};

export const scopeBit = (scope: Scope): number => BIT[scope];

/** The canonical stored form of a valid scope list, or the problem with one entry (by index). */
export function normalizeScopes(input: string | string[]): { ok: true; value: string } | { ok: false; index: number | null; message: string } {
  const list = typeof input === 'string' ? input.split(/[\s,]+/).filter((s) => s !== '') : input;
  if (list.length === 0) return { ok: false, index: null, message: 'must name at least one scope (or "*")' };
  const known = new Set<string>();
  for (const [i, s] of list.entries()) {
    if (s !== '*' && !(SCOPES as readonly string[]).includes(s)) return { ok: false, index: i, message: `unknown scope "${s}"; known: *, ${SCOPES.join(', ')}` };
    known.add(s);
  }
  if (known.has('*')) return { ok: true, value: '*' };
  return { ok: true, value: SCOPES.filter((s) => known.has(s)).join(' ') };
}

/** Bit mask of a stored scope string; an unknown word grants nothing. */
export function scopeMask(stored: string): number {
  let mask = 0;
  for (const s of stored.split(' ')) mask |= s === '*' ? ALL_SCOPES : (BIT[s as Scope] ?? 0);
  return mask;
}
