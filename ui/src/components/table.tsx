// Tables with loading, empty and error states, and cursor paging (the API's next_cursor): the
// pager keeps the cursors it came through, so "Previous" works without offsets.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { Button, Empty, ErrorNote, Loading } from './ui.tsx';

export interface Column<T> {
  /** header text */
  label: string;
  render: (row: T) => ComponentChildren;
  /** right-aligned numbers */
  numeric?: boolean;
  /** hidden on narrow screens */
  wide?: boolean;
}

export function Table<T>({ columns, rows, rowKey, loading, error, onRetry, empty, caption }: {
  columns: Array<Column<T>>;
  rows: T[] | undefined;
  rowKey: (row: T) => string | number;
  loading?: boolean;
  error?: unknown;
  onRetry?: () => void;
  empty: ComponentChildren;
  caption?: string;
}) {
  if (error && !rows) return <ErrorNote error={error} onRetry={onRetry} />;
  if (!rows) return <Loading />;
  return (
    <div class={`table-wrap ${loading ? 'is-loading' : ''}`} aria-busy={loading ? 'true' : undefined}>
      <ErrorNote error={error} onRetry={onRetry} />
      <table class="table">
        {caption && <caption class="sr-only">{caption}</caption>}
        <thead>
          <tr>{columns.map((c) => <th key={c.label} scope="col" class={`${c.numeric ? 'num' : ''} ${c.wide ? 'wide' : ''}`}>{c.label}</th>)}</tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={rowKey(r)}>
              {columns.map((c) => <td key={c.label} class={`${c.numeric ? 'num' : ''} ${c.wide ? 'wide' : ''}`}>{c.render(r)}</td>)}
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 && !loading && (typeof empty === 'string' ? <Empty title={empty} /> : empty)}
    </div>
  );
}

/** The cursor of the page shown, and moves: next(next_cursor), prev(), reset() (filters changed). */
export function useCursor() {
  const [stack, setStack] = useState<Array<string | undefined>>([undefined]);
  return {
    cursor: stack[stack.length - 1],
    page: stack.length,
    next: (c: string) => setStack((s) => [...s, c]),
    prev: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
    reset: () => setStack([undefined]),
  };
}

export function Pager({ page, hasNext, onNext, onPrev, loading }: { page: number; hasNext: boolean; onNext: () => void; onPrev: () => void; loading?: boolean }) {
  if (page === 1 && !hasNext) return null;
  return (
    <nav class="pager" aria-label="Pages">
      <Button variant="ghost" onClick={onPrev} disabled={page === 1 || loading}>← Previous</Button>
      <span class="muted">Page {page}</span>
      <Button variant="ghost" onClick={onNext} disabled={!hasNext || loading}>Next →</Button>
    </nav>
  );
}
