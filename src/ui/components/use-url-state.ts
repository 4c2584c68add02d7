import { useCallback, useEffect, useState } from 'preact/hooks';
import { decodeState, encodeState, type UrlState } from '../lib/url-state.js';

/**
 * The view's state lives in the URL: every change is a history entry (so a link reproduces
 * the view, and back/forward step through queries), and back/forward restore it.
 */
export function useUrlState(onRestore: (s: UrlState) => void): [UrlState, (patch: Partial<UrlState>) => void] {
  const [url, setUrl] = useState<UrlState>(() => decodeState(location.search));
  useEffect(() => {
    const enc = encodeState(url);
    if (enc !== location.search.replace(/^\?/, '')) history.pushState(null, '', enc ? `?${enc}` : location.pathname);
  }, [url]);
  useEffect(() => {
    const onPop = () => {
      const s = decodeState(location.search);
      setUrl(s);
      onRestore(s);
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const update = useCallback((patch: Partial<UrlState>) => setUrl((u) => ({ ...u, ...patch })), []);
  return [url, update];
}
