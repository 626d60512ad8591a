/** Loads JSON for a view: loading / error / data, reloadable, and refreshed on an interval when asked (live views). */
import { useCallback, useEffect, useRef, useState } from 'react';
import { getJson } from './api.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
}

export function useFetch<T>(path: string | null, refreshMs?: number): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: Error | undefined; loading: boolean; path: string | null }>({
    data: undefined,
    error: undefined,
    loading: path !== null,
    path,
  });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((value) => value + 1), []);
  const current = useRef(path);
  current.current = path;

  useEffect(() => {
    if (path === null) return undefined;
    const controller = new AbortController();
    // A new path shows the loading state; a refresh of the same path keeps what is on screen.
    setState((previous) =>
      previous.path === path ? { ...previous, loading: true } : { data: undefined, error: undefined, loading: true, path },
    );
    getJson<T>(path, controller.signal).then(
      (data) => {
        if (current.current === path) setState({ data, error: undefined, loading: false, path });
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setState((previous) => ({ ...previous, error: error instanceof Error ? error : new Error(String(error)), loading: false }));
      },
    );
    return () => controller.abort();
  }, [path, tick]);

  useEffect(() => {
    if (refreshMs === undefined || path === null) return undefined;
    const timer = setInterval(reload, refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs, path, reload]);

  return { data: state.path === path ? state.data : undefined, error: state.error, loading: state.loading, reload };
}
