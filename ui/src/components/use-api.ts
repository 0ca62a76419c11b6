// useApi(load, deps): runs `load` when deps change, with loading / error / data states and a
// reload(); a newer load supersedes an older one (its late answer is dropped).
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface ApiState<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
}

export function useApi<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): ApiState<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const current = useRef(0);
  useEffect(() => {
    const id = ++current.current;
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    load(ctl.signal).then(
      (data) => { if (id === current.current) setState({ data, loading: false }); },
      (error: Error) => { if (id === current.current && error.name !== 'AbortError') setState((s) => ({ data: s.data, error, loading: false })); },
    );
    return () => ctl.abort();
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload } as ApiState<T>;
}

/** the value, settled after `ms` without change (search boxes) */
export function useDebounced<T>(value: T, ms = 250): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}
