// The limit and budget fields of a key (seed 002: budget, RPM, TPM, RPH, RPD, TPD), as strings
// while edited and as the API's limits object when sent. A field left empty is "no limit" (the
// team's and organization's limits still apply). `constraints` puts a team's self-service caps
// next to the fields they bound.
import type { ComponentChildren } from 'preact';
import { Field, Select, TextInput, numberOrUndefined } from '../components/form.tsx';

export const LIMIT_KEYS = ['rpm', 'tpm', 'rph', 'rpd', 'tpd'] as const;
type LimitKey = (typeof LIMIT_KEYS)[number];
const LABELS: Record<LimitKey, string> = { rpm: 'Requests per minute', tpm: 'Tokens per minute', rph: 'Requests per hour', rpd: 'Requests per day', tpd: 'Tokens per day' };

export type Period = 'total' | 'daily' | 'weekly' | 'monthly';
export interface LimitValues {
  max_budget_usd: string;
  budget_period: Period;
  rpm: string;
  tpm: string;
  rph: string;
  rpd: string;
  tpd: string;
}
export const EMPTY_LIMITS: LimitValues = { max_budget_usd: '', budget_period: 'monthly', rpm: '', tpm: '', rph: '', rpd: '', tpd: '' };

export interface LimitsBody {
  max_budget_usd?: number | null;
  budget_period?: Period;
  rpm?: number | null;
  tpm?: number | null;
  rph?: number | null;
  rpd?: number | null;
  tpd?: number | null;
}

/** only the fields given (a creation: the others are simply not set) */
export function limitsBody(v: LimitValues): LimitsBody {
  const out: LimitsBody = {};
  const budget = numberOrUndefined(v.max_budget_usd);
  if (budget !== undefined) {
    out.max_budget_usd = budget;
    out.budget_period = v.budget_period;
  }
  for (const k of LIMIT_KEYS) {
    const n = numberOrUndefined(v[k]);
    if (n !== undefined) out[k] = n;
  }
  return out;
}

/** every field, empty ones as null (PUT …/limits replaces the key's limits) */
export function limitsReplacement(v: LimitValues): LimitsBody {
  const out: LimitsBody = { max_budget_usd: numberOrUndefined(v.max_budget_usd) ?? null };
  if (out.max_budget_usd !== null) out.budget_period = v.budget_period;
  for (const k of LIMIT_KEYS) out[k] = numberOrUndefined(v[k]) ?? null;
  return out;
}

export function limitValuesOf(p: { max_budget_usd: number | null; budget_period: Period | null } & Record<LimitKey, number | null>): LimitValues {
  const s = (n: number | null) => (n === null ? '' : String(n));
  return { max_budget_usd: s(p.max_budget_usd), budget_period: p.budget_period ?? 'monthly', rpm: s(p.rpm), tpm: s(p.tpm), rph: s(p.rph), rpd: s(p.rpd), tpd: s(p.tpd) };
}

export function KeyLimitFields({ value, onChange, budgetHint }: { value: LimitValues; onChange: (v: LimitValues) => void; budgetHint?: ComponentChildren }) {
  const set = (k: keyof LimitValues) => (x: string) => onChange({ ...value, [k]: x });
  return (
    <>
      <Field name="max_budget_usd" label="Budget (USD)" hint={budgetHint ?? 'Empty: no budget of its own.'}>
        <TextInput name="max_budget_usd" type="number" min={0} step="0.01" value={value.max_budget_usd} onValue={set('max_budget_usd')} />
      </Field>
      <Field name="budget_period" label="Budget period">
        <Select name="budget_period" value={value.budget_period} onValue={set('budget_period')} options={[{ value: 'monthly', label: 'Monthly' }, { value: 'weekly', label: 'Weekly' }, { value: 'daily', label: 'Daily' }, { value: 'total', label: 'Total (never resets)' }]} />
      </Field>
      {LIMIT_KEYS.map((k) => (
        <Field key={k} name={k} label={LABELS[k]}>
          <TextInput name={k} type="number" min={1} step={1} value={value[k]} onValue={set(k)} />
        </Field>
      ))}
    </>
  );
}
