// The dashboard's entry: who is signed in decides between the sign-in page and the app; the
// router draws the page for the URL (routes.tsx).
import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import { ErrorBoundary, LocationProvider, Route, Router, useLocation } from 'preact-iso';
import { PAGES } from './routes.tsx';
import { Layout } from './layout.tsx';
import { loadMe, me } from './session.ts';
import { Loading } from './components/ui.tsx';
import NotFound from './pages/not-found.tsx';
import './styles/app.css';

function App() {
  const { path, url, route } = useLocation();
  const page = PAGES.find((p) => matches(p.path, path));
  useEffect(() => {
    if (me.value === undefined) void loadMe();
  }, []);
  useEffect(() => {
    document.title = page ? `${page.title} · Tollgate` : 'Tollgate';
  }, [page]);
  useEffect(() => {
    if (me.value === null && !page?.public) route(`/ui/sign-in?next=${encodeURIComponent(url)}`, true);
  }, [me.value, page, url]);

  if (page?.public) return <Router>{PAGES.filter((p) => p.public).map((p) => <Route key={p.path} path={p.path} component={p.component} />)}</Router>;
  if (!me.value) return <div class="boot"><Loading /></div>;
  return (
    <Layout>
      <ErrorBoundary>
        <Router>
          {[...PAGES.filter((p) => !p.public).map((p) => <Route key={p.path} path={p.path} component={p.component} />), <Route key="default" default component={NotFound} />]}
        </Router>
      </ErrorBoundary>
    </Layout>
  );
}

function matches(pattern: string, path: string): boolean {
  const a = pattern.split('/').filter(Boolean);
  const b = path.replace(/\/$/, '').split('/').filter(Boolean);
  return a.length === b.length && a.every((seg, i) => seg.startsWith(':') || seg === b[i]);
}

render(<LocationProvider scope="/ui"><App /></LocationProvider>, document.getElementById('app')!);
