// Limits and budgets, as every level takes them (key, member allocation, service account, team,
// org: PUT/PATCH /api/…/limits, and inline on key and team creation) and shows them (GET …/limits,
// with the current usage).
//
//   const [draft, setDraft] = useState(draftFrom(layer?.policy));   // strings, as typed
//   <Form onSubmit={() => api.putTeamsByIdLimits({ path: { id }, body: limitsBody(draft) })}>
//     <LimitsEditor value={draft} onValue={setDraft} />
//   </Form>
//   <LimitsView layer={layer} />                                     // values + usage bars
//
// LimitsEditor props:
//   value / onValue  the draft (LimitsDraft: one string per field; '' = not set)
//   fields           which fields to show, in order (default: every one); e.g. ['max_budget_usd',
//                    'budget_period'] for a member allocation
//   hints            a line under a field (a constraint: "at most $50 (team policy)")
//                    (TEAM_FIELDS adds the team-only member_share: "fair" or a fraction)
// The inputs are named exactly like the API's fields, so a 400 naming one (param) is shown under
// it by the enclosing <Form>. Render it inside a <Form>; it has no submit of its own.
//
// limitsBody(draft, blank): the request body. blank = 'omit' (PUT, creation: a field left empty is
// not sent, which PUT clears and creation leaves unset) or 'null' (PATCH: sent as null, cleared).
// The budget's period and mode are sent only with a budget.
//
// LimitsView props: `layer` (a GET …/limits answer: policy, windows with used/remaining, budget with
// spent) or just `policy` (no usage known); `compact` drops the rows that have no limit.
import type { GetTeamsByIdLimitsResponse, PutTeamsByIdLimitsBody } from '../api/generated.ts';
import { Field, numberOrUndefined, Select, TextInput } from './form.tsx';
import { Progress } from './ui.tsx';
import { int, relative, usd } from './format.ts';

export type LimitsLayer = GetTeamsByIdLimitsResponse;
export type LimitsPolicy = LimitsLayer['policy'];
export type LimitsBody = PutTeamsByIdLimitsBody;

type Period = NonNullable<LimitsPolicy['budget_period']>;
type Mode = NonNullable<LimitsPolicy['budget_mode']>;
const COUNTS = ['rpm', 'rph', 'rpd', 'tpm', 'tpd', 'max_parallel_requests'] as const;
type CountField = (typeof COUNTS)[number];

export interface LimitsDraft {
  rpm: string;
  rph: string;
  rpd: string;
  tpm: string;
  tpd: string;
  max_parallel_requests: string;
  max_budget_usd: string;
  budget_period: Period;
  budget_mode: Mode;
  /** percentages of the budget, comma-separated: "50, 80, 100" */
  alert_thresholds: string;
  /** teams only: '' (none), 'fair', or a fraction as typed ("0.25") */
  member_share: string;
}
export type LimitField = keyof LimitsDraft;

const LABELS: Record<LimitField, string> = {
  rpm: 'Requests per minute',
  rph: 'Requests per hour',
  rpd: 'Requests per day',
  tpm: 'Tokens per minute',
  tpd: 'Tokens per day',
  max_parallel_requests: 'Parallel requests',
  max_budget_usd: 'Budget (USD)',
  budget_period: 'Budget period',
  budget_mode: 'When the budget is spent',
  alert_thresholds: 'Alert at (% of budget)',
  member_share: "Each member's share of the token limits",
};
const ALL_FIELDS: LimitField[] = ['max_budget_usd', 'budget_period', 'budget_mode', 'alert_thresholds', 'rpm', 'tpm', 'rph', 'rpd', 'tpd', 'max_parallel_requests'];
/** A team's fields: every level's, and the member share of its tpm / tpd (docs/limits.md). */
export const TEAM_FIELDS: LimitField[] = [...ALL_FIELDS, 'member_share'];

const PERIODS: Array<{ value: Period; label: string }> = [
  { value: 'monthly', label: 'Monthly' },
  { value: 'weekly', label: 'Weekly' },
  { value: 'daily', label: 'Daily' },
  { value: 'total', label: 'Total (never resets)' },
];
const MODES: Array<{ value: Mode; label: string }> = [
  { value: 'hard', label: 'Hard: refuse requests' },
  { value: 'soft', label: 'Soft: alert, keep serving' },
];

const text = (v: number | null | undefined): string => (v == null ? '' : String(v));

/** The editable draft of a stored policy (or an empty one). */
export function draftFrom(p?: Partial<LimitsPolicy> | null): LimitsDraft {
  return {
    rpm: text(p?.rpm),
    rph: text(p?.rph),
    rpd: text(p?.rpd),
    tpm: text(p?.tpm),
    tpd: text(p?.tpd),
    max_parallel_requests: text(p?.max_parallel_requests),
    max_budget_usd: text(p?.max_budget_usd),
    budget_period: p?.budget_period ?? 'monthly',
    budget_mode: p?.budget_mode ?? 'hard',
    alert_thresholds: (p?.alert_thresholds ?? []).map((t) => String(Math.round(t * 10000) / 100)).join(', '),
    member_share: p?.member_share == null ? '' : String(p.member_share),
  };
}

/** The request body of a draft (see the header for `blank`). */
export function limitsBody(d: LimitsDraft, blank: 'omit' | 'null' = 'omit'): LimitsBody {
  const body: LimitsBody = {};
  const put = (k: CountField | 'max_budget_usd', v: string) => {
    const n = numberOrUndefined(v);
    if (n !== undefined) body[k] = n;
    else if (blank === 'null') body[k] = null;
  };
  for (const k of COUNTS) put(k, d[k]);
  put('max_budget_usd', d.max_budget_usd);
  if (body.max_budget_usd != null) {
    body.budget_period = d.budget_period;
    body.budget_mode = d.budget_mode;
    const pcts = d.alert_thresholds.split(',').map((s) => s.trim()).filter(Boolean);
    body.alert_thresholds = pcts.map((s) => Number(s) / 100);
  }
  // Sent only when the field is shown (teams): 'fair', a number, or cleared. A fraction that is not
  // a number is sent as typed, so the API's 400 names the field.
  const share = d.member_share.trim();
  if (share !== '') body.member_share = share === 'fair' ? 'fair' : Number.isFinite(Number(share)) ? Number(share) : (share as 'fair');
  else if (blank === 'null') body.member_share = null;
  return body;
}

export function LimitsEditor({ value, onValue, fields = ALL_FIELDS, hints = {} }: {
  value: LimitsDraft;
  onValue: (next: LimitsDraft) => void;
  fields?: LimitField[];
  hints?: Partial<Record<LimitField, string>>;
}) {
  const set = <K extends LimitField>(k: K) => (v: LimitsDraft[K]) => onValue({ ...value, [k]: v });
  const noBudget = value.max_budget_usd.trim() === '';
  return (
    <div class="form-grid limits-editor">
      {fields.map((f) => {
        // Period, mode and alerts belong to a budget: hidden until one is typed.
        if (noBudget && (f === 'budget_period' || f === 'budget_mode' || f === 'alert_thresholds')) return null;
        const hint = hints[f] ?? (f === 'alert_thresholds' ? 'e.g. 50, 80, 100' : f === 'member_share' ? '"fair" (divided among active members) or a fraction such as 0.25; empty: none' : COUNTS.includes(f as CountField) || f === 'max_budget_usd' ? 'empty: no limit' : undefined);
        return (
          <Field key={f} name={f} label={LABELS[f]} hint={hint}>
            {f === 'budget_period' ? (
              <Select name={f} value={value.budget_period} onValue={set('budget_period')} options={PERIODS} />
            ) : f === 'budget_mode' ? (
              <Select name={f} value={value.budget_mode} onValue={set('budget_mode')} options={MODES} />
            ) : f === 'alert_thresholds' ? (
              <TextInput name={f} value={value.alert_thresholds} onValue={set('alert_thresholds')} placeholder="50, 80, 100" />
            ) : f === 'member_share' ? (
              <TextInput name={f} value={value.member_share} onValue={set('member_share')} placeholder="fair" />
            ) : (
              <TextInput name={f} type="number" min={0} step={f === 'max_budget_usd' ? '0.01' : 1} value={value[f]} onValue={set(f)} />
            )}
          </Field>
        );
      })}
    </div>
  );
}

const WINDOW_ROWS: Array<{ key: CountField & keyof LimitsPolicy; label: string }> = [
  { key: 'rpm', label: 'Requests / minute' },
  { key: 'rph', label: 'Requests / hour' },
  { key: 'rpd', label: 'Requests / day' },
  { key: 'tpm', label: 'Tokens / minute' },
  { key: 'tpd', label: 'Tokens / day' },
];

/** Each limit with its current use (when `layer` carries it) as a bar; "no limit" where none is set. */
export function LimitsView({ layer, policy, compact }: { layer?: LimitsLayer | null; policy?: LimitsPolicy | null; compact?: boolean }) {
  const p = layer?.policy ?? policy;
  if (!p) return <p class="muted">No limits.</p>;
  const b = layer?.budget ?? null;
  const rows: Array<{ label: string; value: string; used?: number; limit: number | null; note?: string }> = [];
  if (p.max_budget_usd != null || !compact) {
    rows.push({
      label: `Budget${p.budget_period ? ` (${p.budget_period}${p.budget_mode === 'soft' ? ', soft' : ''})` : ''}`,
      value: b ? `${usd(b.spent_usd)} of ${usd(b.limit_usd)}` : usd(p.max_budget_usd),
      used: b?.spent_usd,
      limit: p.max_budget_usd,
      note: b ? `${usd(b.remaining_usd)} left${b.resets_at ? ` · resets ${relative(b.resets_at)}` : ''}` : undefined,
    });
  }
  for (const w of WINDOW_ROWS) {
    const limit = p[w.key];
    if (limit == null && compact) continue;
    const live = layer?.windows[w.key];
    rows.push({ label: w.label, value: live ? `${int(live.used)} of ${int(limit)}` : int(limit), used: live?.used, limit });
  }
  if (p.member_share != null) {
    const share = p.member_share === 'fair' ? 'fair: divided among active members' : `${Math.round(p.member_share * 10000) / 100}% each`;
    rows.push({ label: "Member share of tokens", value: share, limit: 1 });
  }
  if (p.max_parallel_requests != null || !compact) {
    const c = layer?.concurrency;
    rows.push({ label: 'Parallel requests', value: c ? `${int(c.in_flight)} of ${int(c.limit)}` : int(p.max_parallel_requests), used: c?.in_flight, limit: p.max_parallel_requests });
  }
  if (rows.length === 0) return <p class="muted">No limits set.</p>;
  return (
    <dl class="limits-view">
      {rows.map((r) => (
        <div key={r.label} class="limits-row">
          <dt>{r.label}</dt>
          <dd>
            {r.limit == null ? (
              <span class="muted">no limit</span>
            ) : (
              <>
                <span class="num">{r.value}</span>
                {r.used !== undefined && <Progress used={r.used} limit={r.limit} label={`${r.label} used`} />}
                {r.note && <span class="muted small">{r.note}</span>}
              </>
            )}
          </dd>
        </div>
      ))}
    </dl>
  );
}
