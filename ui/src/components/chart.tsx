// Charts: a time series (uPlot: canvas, ~50 KB, fast with thousands of points) drawn as lines,
// areas, stacked areas or stacked bars, and a bar list (top teams / models / keys) in plain HTML.
// Every chart has a text alternative: its label and a summary for screen readers. uPlot's legend
// is the tooltip: hovering a point shows each series' own value (not the running sum) there.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { Empty } from './ui.tsx';

export const PALETTE = ['#4f46e5', '#0891b2', '#16a34a', '#d97706', '#dc2626', '#9333ea', '#db2777', '#0d9488', '#65a30d', '#475569'];

export interface Series { label: string; values: Array<number | null> }

export interface TimeChartProps {
  /** unix seconds */
  x: number[];
  series: Series[];
  stacked?: boolean;
  /** bars instead of lines (one bar per point; stacked when `stacked`) */
  bars?: boolean;
  height?: number;
  format?: (v: number) => string;
  /** what the chart shows, for assistive technology */
  label: string;
  /** shown instead of an empty chart when every value is zero or missing */
  empty?: string;
}

const color = (i: number) => PALETTE[i % PALETTE.length]!;
const sum = (values: Array<number | null>) => values.reduce<number>((n, v) => n + (v ?? 0), 0);
/** A bucket as the legend names it: 2026-11-30, or 2026-11-30 14:00 for hours (UTC). */
const when = (ts: number, step: number) => new Date(ts * 1000).toISOString().slice(0, step < 86_400 ? 16 : 10).replace('T', ' ');

/** What uPlot draws: stacked series become running sums, and bars are drawn tallest first so each stays visible. */
function plotted(series: Series[], stacked: boolean, bars: boolean): Array<{ label: string; values: Array<number | null>; own: Array<number | null>; color: string }> {
  const out = series.map((s, i) => ({ label: s.label, values: s.values, own: s.values, color: color(i) }));
  if (!stacked) return out;
  let sum: number[] = [];
  for (const s of out) {
    sum = s.own.map((v, j) => (v ?? 0) + (sum[j] ?? 0));
    s.values = sum;
  }
  return bars ? out.reverse() : out;
}

export function TimeChart({ x, series, stacked = false, bars = false, height = 260, format = (v: number) => String(v), label, empty }: TimeChartProps) {
  const ref = useRef<HTMLDivElement>(null);
  const total = series.reduce((n, s) => n + sum(s.values), 0);
  const nothing = x.length === 0 || series.every((s) => s.values.every((v) => !v));
  useEffect(() => {
    const el = ref.current;
    if (!el || nothing) return;
    const drawn = plotted(series, stacked, bars);
    const data: uPlot.AlignedData = [x, ...drawn.map((s) => s.values)];
    // Bars need half a step of room at each end, or the first and last are cut in half.
    const step = x.length > 1 ? x[1]! - x[0]! : 86_400;
    const barPaths = bars ? uPlot.paths.bars!({ size: [0.7, 48], gap: 1 }) : undefined;
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height,
      legend: { show: series.length > 1 || bars },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true, ...(bars ? { range: (_u, min, max) => [min - step / 2, max + step / 2] as uPlot.Range.MinMax } : {}) }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.08 : 1] } },
      axes: [
        { stroke: '#64748b', grid: { stroke: '#eef2f7' } },
        { stroke: '#64748b', grid: { stroke: '#eef2f7' }, size: 70, values: (_u, vals) => vals.map((v) => format(v)) },
      ],
      // Buckets are UTC days and hours (the rollups'): the axis and the legend read in UTC too.
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      series: [
        { label: step < 86_400 ? 'Hour (UTC)' : 'Day (UTC)', value: (_u: uPlot, v: number | null) => (v == null ? 'all' : when(v, step)) },
        ...drawn.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: bars ? 0 : 2,
          fill: bars ? s.color : stacked || series.length === 1 ? s.color + '33' : undefined,
          ...(barPaths ? { paths: barPaths, points: { show: false } } : { points: { show: x.length < 40 } }),
          // Hovering: the point's own value (not the running sum); otherwise the series' total.
          value: (_u: uPlot, v: number | null, _si: number, idx: number | null) => format(idx == null || v == null ? sum(s.own) : (s.own[idx] ?? 0)),
        })),
      ],
      // Stacked areas fill down to the series below, not to zero.
      ...(stacked && !bars ? { bands: drawn.slice(1).map((_, i) => ({ series: [i + 2, i + 1] as [number, number] })) } : {}),
    };
    const chart = new uPlot(opts, data, el);
    const resize = new ResizeObserver(() => chart.setSize({ width: el.clientWidth, height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [x, series, stacked, bars, height, nothing]);
  if (nothing) return <Empty title={empty ?? 'No data in this range'} />;
  return (
    <figure class="chart" role="img" aria-label={`${label}: ${series.length} series over ${x.length} points, total ${format(total)}`}>
      <div ref={ref} class="chart-canvas" />
    </figure>
  );
}

/** Horizontal bars: the top items of a breakdown. */
export function BarList({ items, format, empty = 'Nothing yet' }: { items: Array<{ label: string; value: number; href?: string; detail?: string }>; format: (v: number) => string; empty?: string }) {
  if (items.length === 0) return <p class="muted">{empty}</p>;
  const max = Math.max(0, ...items.map((i) => i.value));
  return (
    <ul class="barlist">
      {items.map((i) => (
        <li key={i.label}>
          <div class="barlist-row">
            {i.href ? <a href={i.href}>{i.label}</a> : <span>{i.label}</span>}
            <span class="num">{format(i.value)}{i.detail && <span class="muted barlist-detail"> {i.detail}</span>}</span>
          </div>
          <div class="barlist-track" aria-hidden="true"><div class="barlist-bar" style={{ width: `${max ? (i.value / max) * 100 : 0}%` }} /></div>
        </li>
      ))}
    </ul>
  );
}
