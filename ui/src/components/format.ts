// How numbers, money and times read everywhere in the dashboard.
const usdFmt = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });
const usdSmall = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 4 });
const intFmt = new Intl.NumberFormat('en-US');
const compactFmt = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

/** $1,234.56; amounts under a dollar keep up to 4 decimals ($0.0042) */
export const usd = (v: number | null | undefined): string => (v == null ? '—' : Math.abs(v) < 1 && v !== 0 ? usdSmall.format(v) : usdFmt.format(v));
export const int = (v: number | null | undefined): string => (v == null ? '—' : intFmt.format(v));
export const compact = (v: number | null | undefined): string => (v == null ? '—' : compactFmt.format(v));
export const pct = (v: number | null | undefined, digits = 1): string => (v == null || !Number.isFinite(v) ? '—' : `${(v * 100).toFixed(digits)}%`);

/** "2026-11-30 14:02" in the viewer's time zone */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function day(iso: string | null | undefined): string {
  return iso ? dateTime(iso).slice(0, 10) : '—';
}

// Made once: a formatter costs far more to build than to use, and a table calls relative() per row.
const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const RELATIVE_UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [['day', 86_400_000], ['hour', 3_600_000], ['minute', 60_000]];

/** "3 minutes ago", "in 2 days" */
export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const diff = new Date(iso).getTime() - now;
  const abs = Math.abs(diff);
  for (const [unit, ms] of RELATIVE_UNITS) if (abs >= ms) return rtf.format(Math.round(diff / ms), unit);
  return 'just now';
}

/** the change from `before` to `now`, as "+12.5%" / "−3.0%", or null when there was nothing before */
export function change(now: number, before: number): { text: string; up: boolean } | null {
  if (!before) return null;
  const r = (now - before) / before;
  return { text: `${r >= 0 ? '+' : '−'}${Math.abs(r * 100).toFixed(1)}%`, up: r >= 0 };
}
