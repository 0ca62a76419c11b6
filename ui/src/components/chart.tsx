// Charts: a time series (uPlot: canvas, ~50 KB, fast with thousands of points) drawn as lines,
// areas or stacked areas, and a bar list (top teams / models / keys) in plain HTML. Every chart
// has a text alternative: its label and a summary for screen readers.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export const PALETTE = ['#4f46e5', '#0891b2', '#16a34a', '#d97706', '#dc2626', '#9333ea', '#db2777', '#0d9488', '#65a30d', '#475569'];

export interface Series { label: string; values: Array<number | null> }

export function TimeChart({ x, series, stacked, height = 260, format = (v: number) => String(v), label }: {
  /** unix seconds */
  x: number[];
  series: Series[];
  stacked?: boolean;
  height?: number;
  format?: (v: number) => string;
  /** what the chart shows, for assistive technology */
  label: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    // Stacked: each series is drawn as the running sum of itself and the ones before it.
    const drawn = series.map((s) => s.values.map((v) => v ?? 0));
    if (stacked) for (let i = 1; i < drawn.length; i++) drawn[i] = drawn[i]!.map((v, j) => v + drawn[i - 1]![j]!);
    const data: uPlot.AlignedData = [x, ...(stacked ? drawn : series.map((s) => s.values))];
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height,
      legend: { show: series.length > 1 },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [
        { stroke: '#64748b', grid: { stroke: '#eef2f7' } },
        { stroke: '#64748b', grid: { stroke: '#eef2f7' }, size: 70, values: (_u, vals) => vals.map((v) => format(v)) },
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: PALETTE[i % PALETTE.length],
          width: 2,
          fill: stacked || series.length === 1 ? PALETTE[i % PALETTE.length] + '33' : undefined,
          points: { show: x.length < 40 },
          value: (_u: uPlot, v: number | null, _si: number, idx: number | null) => (idx == null || v == null ? '—' : format(stacked ? (series[i]!.values[idx] ?? 0) : v)),
        })),
      ],
      ...(stacked ? { bands: series.slice(1).map((_, i) => ({ series: [i + 2, i + 1] as [number, number] })) } : {}),
    };
    const chart = new uPlot(opts, data, el);
    const resize = new ResizeObserver(() => chart.setSize({ width: el.clientWidth, height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [x, series, stacked, height]);
  const total = series.reduce((n, s) => n + s.values.reduce<number>((m, v) => m + (v ?? 0), 0), 0);
  return (
    <figure class="chart" role="img" aria-label={`${label}: ${series.length} series over ${x.length} points, total ${format(total)}`}>
      <div ref={ref} class="chart-canvas" />
    </figure>
  );
}

/** Horizontal bars: the top items of a breakdown. */
export function BarList({ items, format }: { items: Array<{ label: string; value: number; href?: string }>; format: (v: number) => string }) {
  const max = Math.max(0, ...items.map((i) => i.value));
  return (
    <ul class="barlist">
      {items.map((i) => (
        <li key={i.label}>
          <div class="barlist-row">
            {i.href ? <a href={i.href}>{i.label}</a> : <span>{i.label}</span>}
            <span class="num">{format(i.value)}</span>
          </div>
          <div class="barlist-track" aria-hidden="true"><div class="barlist-bar" style={{ width: `${max ? (i.value / max) * 100 : 0}%` }} /></div>
        </li>
      ))}
    </ul>
  );
}
