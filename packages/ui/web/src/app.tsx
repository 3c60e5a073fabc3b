/** The app shell: top bar (home, theme, token), the page the URL names, and the token dialog. */
import { useEffect, useState, type ReactNode } from 'react';
import { AUTH_REQUIRED_EVENT, getToken, setToken } from './api';
import { TokenDialog } from './components/token-dialog';
import { ComparePage } from './pages/compare-page';
import { ExperimentsPage } from './pages/experiments-page';
import { ModelPage } from './pages/model-page';
import { ModelsPage } from './pages/models-page';
import { RunPage } from './pages/run-page';
import { RunsPage } from './pages/runs-page';
import { linkClick, useLocation } from './router';
import { ThemeContext } from './theme-context';
import { useTheme } from './theme';

function route(path: string, query: URLSearchParams): ReactNode {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return <ExperimentsPage query={query} />;
  if (parts[0] === 'experiments' && parts[1] !== undefined)
    return <RunsPage key={parts[1]} experimentId={parts[1]} query={query} />;
  if (parts[0] === 'runs' && parts[1] !== undefined) return <RunPage key={parts[1]} runId={parts[1]} query={query} />;
  if (parts[0] === 'compare') return <ComparePage query={query} />;
  if (parts[0] === 'models' && parts[1] !== undefined)
    return <ModelPage key={parts[1]} name={parts.slice(1).join('/')} query={query} />;
  if (parts[0] === 'models') return <ModelsPage query={query} />;
  return (
    <div className="page">
      <h1>Not found</h1>
      <p>
        No page at <code>{path}</code>.{' '}
        <a href="/" onClick={linkClick('/')}>
          Go to the experiments
        </a>
        .
      </p>
    </div>
  );
}

export function App(): ReactNode {
  const { path, query } = useLocation();
  const [theme, toggleTheme] = useTheme();
  const [authReason, setAuthReason] = useState<string>();
  // Bumped after a token is entered, so the page fetches again with it.
  const [epoch, setEpoch] = useState(0);
  const signedIn = getToken() !== null;

  useEffect(() => {
    const onAuth = (e: Event): void => setAuthReason((e as CustomEvent<string>).detail);
    window.addEventListener(AUTH_REQUIRED_EVENT, onAuth);
    return () => window.removeEventListener(AUTH_REQUIRED_EVENT, onAuth);
  }, []);

  return (
    <ThemeContext.Provider value={theme}>
      <header className="topbar">
        <a className="brand" href="/" onClick={linkClick('/')}>
          <svg viewBox="0 0 16 16" width="18" height="18" aria-hidden="true">
            <rect width="16" height="16" rx="3" fill="var(--accent)" />
            <path d="M3 5h10M5 5v7M11 5v7M3 9h10" stroke="white" strokeWidth="1.6" />
          </svg>
          Trestle
        </a>
        <nav>
          <a href="/" onClick={linkClick('/')} className={path === '/' ? 'active' : ''}>
            Experiments
          </a>
          <a href="/models" onClick={linkClick('/models')} className={path.startsWith('/models') ? 'active' : ''}>
            Models
          </a>
        </nav>
        <div className="spacer" />
        {signedIn && (
          <button
            className="ghost"
            title="forget the API token of this tab"
            onClick={() => {
              setToken(null);
              setEpoch((e) => e + 1);
            }}
          >
            Sign out
          </button>
        )}
        <button className="ghost" onClick={toggleTheme} aria-label="toggle theme" title="light / dark theme">
          {theme === 'dark' ? '☀' : '☾'}
        </button>
      </header>
      <main key={epoch}>{route(path, query)}</main>
      {authReason !== undefined && (
        <TokenDialog
          reason={authReason}
          onDone={() => {
            setAuthReason(undefined);
            setEpoch((e) => e + 1);
          }}
        />
      )}
    </ThemeContext.Provider>
  );
}
