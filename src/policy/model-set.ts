// Model names and patterns in access rules. A pattern is a prefix ending in '*' ('gpt-4o*',
// 'anthropic/*', or '*' for every model); '*' anywhere else is refused on write. Prefix patterns
// keep "does this rule cover that one" decidable, which is what lets a key's narrowing be checked
// against its team's when it is written (policy/model-access.ts).
export const MAX_MODEL_NAME = 256;

/** Why a model name or pattern is unusable, or null. */
export function modelEntryProblem(entry: string): string | null {
  if (entry.length === 0) return 'must not be empty';
  if (entry.length > MAX_MODEL_NAME) return `must be at most ${MAX_MODEL_NAME} characters`;
  if (entry.trim() !== entry) return 'must not start or end with whitespace';
  const star = entry.indexOf('*');
  if (star !== -1 && star !== entry.length - 1) return `"*" may only end a pattern (a prefix such as "gpt-4o*"), not appear inside "${entry}"`;
  return null;
}

export const isPattern = (entry: string): boolean => entry.endsWith('*');

/** A set of exact names and prefix patterns. */
export class ModelSet {
  readonly all: boolean;
  private readonly exact: Set<string>;
  private readonly prefixes: string[];

  constructor(entries: Iterable<string>) {
    const exact = new Set<string>();
    const prefixes: string[] = [];
    for (const e of entries) {
      if (isPattern(e)) prefixes.push(e.slice(0, -1));
      else exact.add(e);
    }
    this.all = prefixes.includes('');
    this.exact = exact;
    this.prefixes = prefixes;
  }

  has(model: string): boolean {
    if (this.all || this.exact.has(model)) return true;
    for (const p of this.prefixes) if (model.startsWith(p)) return true;
    return false;
  }

  /** Whether every model an entry (a name or a pattern) can name is in this set. */
  covers(entry: string): boolean {
    if (!isPattern(entry)) return this.has(entry);
    const prefix = entry.slice(0, -1);
    return this.prefixes.some((p) => prefix.startsWith(p));
  }

  get empty(): boolean {
    return this.exact.size === 0 && this.prefixes.length === 0;
  }
}
