/**
 * The console's shell: navigation, the API key, light/dark, and the page the URL names. Each page reads its
 * state (filters, the selected run or study) from the hash, so reloading or sharing a link shows the same view.
 */
import { Component, useEffect, useState, type ErrorInfo, type ReactNode } from 'react';
import { storedKey, storeKey } from './api.ts';
import { ErrorBox } from './components/states.tsx';
import { KeysPage } from './pages/keys.tsx';
import { PlaygroundPage } from './pages/playground.tsx';
import { RegistryPage } from './pages/registry.tsx';
import { RunDetailPage } from './pages/run-detail.tsx';
import { RunsPage } from './pages/runs.tsx';
import { StudiesPage } from './pages/studies.tsx';
import { ComparePage } from './pages/compare.tsx';
import { EvalDetailPage } from './pages/eval-detail.tsx';
import { StudyDetailPage } from './pages/study-detail.tsx';
import { href, useRoute, type Route } from './route.ts';

const PAGES = [
  { id: 'runs', label: 'Runs' },
  { id: 'playground', label: 'Playground' },
  { id: 'studies', label: 'Studies & evals' },
  { id: 'registry', label: 'Registry' },
  { id: 'keys', label: 'Keys & budgets' },
] as const;

type Theme = 'light' | 'dark';

function initialTheme(): Theme {
  const saved = localStorage.getItem('thicket.theme');
  if (saved === 'light' || saved === 'dark') return saved;
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function App(): ReactNode {
  const route = useRoute();
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const [keyOpen, setKeyOpen] = useState(false);
  const [hasKey, setHasKey] = useState(() => storedKey() !== null);

  useEffect(() => {
    document.documentElement.dataset['theme'] = theme;
    localStorage.setItem('thicket.theme', theme);
  }, [theme]);

  const page = route.segments[0] ?? 'runs';
  // An evaluation's page lives under the studies entry of the navigation.
  const section = page === 'evals' ? 'studies' : page === 'compare' ? 'runs' : page;
  const title = PAGES.find((candidate) => candidate.id === section)?.label ?? 'Not found';
  useEffect(() => {
    document.title = `${route.segments[1] ? `${route.segments[1]} · ` : ''}${title} · Thicket console`;
  }, [title, route.segments]);

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <a className="brand" href={href(['runs'])}>
          Thicket <span>console</span>
        </a>
        <nav aria-label="Main">
          <ul>
            {PAGES.map((candidate) => (
              <li key={candidate.id}>
                <a href={href([candidate.id])} aria-current={candidate.id === section ? 'page' : undefined}>
                  {candidate.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="topbar-actions">
          <button type="button" onClick={() => setKeyOpen((open) => !open)} aria-expanded={keyOpen} aria-controls="key-form">
            {hasKey ? 'Key ✓' : 'Key'}
          </button>
          <button
            type="button"
            onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
            aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
          >
            {theme === 'dark' ? '☀' : '☾'}
          </button>
        </div>
      </header>
      {keyOpen ? (
        <KeyForm
          onDone={(key) => {
            storeKey(key);
            setHasKey(key !== null);
            setKeyOpen(false);
            // Every view reloads with the new credentials.
            window.dispatchEvent(new HashChangeEvent('hashchange'));
          }}
        />
      ) : null}
      <main id="main" tabIndex={-1}>
        <PageBoundary key={route.segments.join('/')}>
          <PageFor route={route} page={page} />
        </PageBoundary>
      </main>
    </div>
  );
}

function PageFor({ route, page }: { route: Route; page: string }): ReactNode {
  const id = route.segments[1];
  switch (page) {
    case 'runs':
      return id ? <RunDetailPage key={id} id={id} route={route} /> : <RunsPage route={route} />;
    case 'compare':
      return <ComparePage route={route} />;
    case 'playground':
      return <PlaygroundPage route={route} />;
    case 'studies':
      return id ? <StudyDetailPage key={id} id={id} /> : <StudiesPage route={route} />;
    case 'evals':
      return id ? <EvalDetailPage key={id} id={id} /> : <StudiesPage route={route} />;
    case 'registry':
      return <RegistryPage route={route} />;
    case 'keys':
      return <KeysPage />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            No page “{page}”. <a href={href(['runs'])}>Go to runs</a>.
          </p>
        </section>
      );
  }
}

function KeyForm({ onDone }: { onDone: (key: string | null) => void }): ReactNode {
  const [value, setValue] = useState('');
  return (
    <form
      id="key-form"
      className="key-form"
      onSubmit={(event) => {
        event.preventDefault();
        onDone(value.trim() === '' ? null : value.trim());
      }}
    >
      <label htmlFor="api-key">API key (kept in this browser only; leave empty for an open local gateway)</label>
      <input id="api-key" type="password" autoComplete="off" value={value} onChange={(event) => setValue(event.target.value)} />
      <button type="submit">Save</button>
      <button type="button" onClick={() => onDone(null)}>
        Forget key
      </button>
    </form>
  );
}

/** A page that throws while rendering shows its error; the navigation stays usable. */
class PageBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state = { error: null as Error | null };

  static getDerivedStateFromError(error: Error): { error: Error } {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error('console page failed', error, info.componentStack);
  }

  override render(): ReactNode {
    if (this.state.error) return <ErrorBox error={this.state.error} />;
    return this.props.children;
  }
}
