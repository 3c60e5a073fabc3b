/**
 * A small history router: the path picks the page, the query string holds the view (filter,
 * order, columns, selection) so that a link shares exactly what is on screen.
 */
import { useEffect, useState } from 'react';

const CHANGE = 'trestle:navigate';

/** Goes to `url` (path and query); `replace` for view changes that should not fill the history. */
export function navigate(url: string, options: { replace?: boolean } = {}): void {
  if (url === location.pathname + location.search) return;
  if (options.replace === true) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  window.dispatchEvent(new Event(CHANGE));
}

/** The current path and query; re-renders on navigation. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const bump = (): void => setTick((t) => t + 1);
    window.addEventListener('popstate', bump);
    window.addEventListener(CHANGE, bump);
    return () => {
      window.removeEventListener('popstate', bump);
      window.removeEventListener(CHANGE, bump);
    };
  }, []);
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

/** Replaces some query parameters of the current URL (`null` or an empty list removes one). */
export function updateQuery(changes: Record<string, string | readonly string[] | null>, push = false): void {
  const q = new URLSearchParams(location.search);
  for (const [key, value] of Object.entries(changes)) {
    q.delete(key);
    if (value === null) continue;
    if (typeof value === 'string') {
      if (value !== '') q.set(key, value);
    } else for (const v of value) q.append(key, v);
  }
  const s = q.toString();
  navigate(`${location.pathname}${s === '' ? '' : `?${s}`}`, { replace: !push });
}

/** Click handler for links: plain clicks route in the app, modified clicks open as usual. */
export function linkClick(url: string) {
  return (e: { button: number; metaKey: boolean; ctrlKey: boolean; shiftKey: boolean; preventDefault(): void }) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
    e.preventDefault();
    navigate(url);
  };
}
