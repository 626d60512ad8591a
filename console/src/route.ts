/**
 * URL state: the page and its filters live in the hash (`#/runs?status=ok`), so every view is a shareable link
 * and the gateway only ever serves `/` (no server-side fallback route for deep links).
 */
import { useCallback, useEffect, useState } from 'react';

export interface Route {
  /** Path segments after `#/`: `['runs', '<id>']`. */
  segments: string[];
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const text = hash.replace(/^#\/?/, '');
  const question = text.indexOf('?');
  const path = question < 0 ? text : text.slice(0, question);
  const query = question < 0 ? '' : text.slice(question + 1);
  const segments = path
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => decodeURIComponent(segment));
  return { segments: segments.length > 0 ? segments : ['runs'], params: new URLSearchParams(query) };
}

export function href(segments: string[], params?: Record<string, string | undefined> | URLSearchParams): string {
  const path = segments.map((segment) => encodeURIComponent(segment)).join('/');
  const search = new URLSearchParams();
  if (params instanceof URLSearchParams) params.forEach((value, key) => search.set(key, value));
  else if (params) for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, value);
  const query = search.toString();
  return `#/${path}${query ? `?${query}` : ''}`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const update = (): void => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}

export function navigate(target: string): void {
  window.location.hash = target.replace(/^#/, '');
}

/** Replaces the current page's query parameters (filters) without adding a history entry per keystroke. */
export function useParamsSetter(route: Route): (changes: Record<string, string | undefined>) => void {
  return useCallback(
    (changes) => {
      const next = new URLSearchParams(route.params);
      for (const [key, value] of Object.entries(changes)) {
        if (value === undefined || value === '') next.delete(key);
        else next.set(key, value);
      }
      const target = href(route.segments, next);
      window.history.replaceState(null, '', target);
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    },
    [route],
  );
}
