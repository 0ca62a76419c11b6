// A key's spend: today / this month / last month / all time (GET /api/keys/{id}/spend) and spend
// per day over the last 30 days (GET /api/usage?key_id=…&group_by=day), days without requests
// drawn as zero.
import { useMemo } from 'preact/hooks';
import { api } from '../api/generated.ts';
import { TimeChart } from '../components/chart.tsx';
import { Card, ErrorNote, Loading, Stat } from '../components/ui.tsx';
import { int, usd } from '../components/format.ts';
import { useApi } from '../components/use-api.ts';

const DAY_MS = 86_400_000;
const DAYS = 30;

export function KeySpend({ keyId }: { keyId: number }) {
  const spend = useApi((signal) => api.getKeysByIdSpend({ path: { id: keyId }, options: { signal } }), [keyId]);
  if (spend.error) return <ErrorNote error={spend.error} onRetry={spend.reload} />;
  const s = spend.data as undefined | Record<string, { cost_usd: number; requests: number } | undefined>;
  if (!s) return <Loading />;
  const stat = (label: string, k: string) => <Stat label={label} value={usd(s[k]?.cost_usd ?? 0)} detail={`${int(s[k]?.requests ?? 0)} requests`} />;
  return (
    <div class="grid grid-4 key-stats">
      {stat('Today', 'today')}
      {stat('This month', 'this_month')}
      {stat('Last month', 'last_month')}
      {stat('All time', 'total')}
    </div>
  );
}

export function KeyUsageChart({ keyId }: { keyId: number }) {
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  const from = new Date(today - (DAYS - 1) * DAY_MS).toISOString().slice(0, 10);
  const usage = useApi((signal) => api.getUsage({ query: { key_id: keyId, group_by: 'day', from, limit: 1000 }, options: { signal } }), [keyId, from]);
  // Built once per answer: the chart redraws when its arrays change.
  const chart = useMemo(() => {
    const days = Array.from({ length: DAYS }, (_, i) => today - (DAYS - 1 - i) * DAY_MS);
    const byDay = new Map((usage.data?.data ?? []).map((r) => [r.day, r.cost_usd]));
    return { x: days.map((d) => d / 1000), series: [{ label: 'Spend', values: days.map((d) => byDay.get(new Date(d).toISOString().slice(0, 10)) ?? 0) }] };
  }, [usage.data, today]);
  return (
    <Card title="Spend per day, last 30 days" actions={<a href={`/ui/spend?key_id=${keyId}`}>Open in spend explorer</a>}>
      {usage.error ? <ErrorNote error={usage.error} onRetry={usage.reload} /> : !usage.data ? <Loading /> : (
        <TimeChart x={chart.x} series={chart.series} format={(v) => usd(v)} label="Spend per day of this key over the last 30 days" height={220} />
      )}
    </Card>
  );
}
