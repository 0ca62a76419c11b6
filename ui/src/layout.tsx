// The frame around every signed-in page: the navigation (a sidebar; a menu button on a phone),
// who is signed in with their role, and sign-out.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { PAGES } from './routes.tsx';
import { displayName, me, signOut } from './session.ts';
import { ConfirmHost } from './components/dialog.tsx';
import { ToastHost } from './components/toast.tsx';

export function Layout({ children }: { children: ComponentChildren }) {
  const { path, route } = useLocation();
  const [open, setOpen] = useState(false);
  const role = me.value;
  const active = (p: string) => (p === '/ui' ? path === '/ui' || path === '/ui/' : path === p || path.startsWith(p + '/'));
  const out = async () => {
    await signOut();
    route('/ui/sign-in');
  };
  return (
    <div class={`shell ${open ? 'nav-open' : ''}`}>
      <a class="skip-link" href="#main">Skip to content</a>
      <header class="topbar">
        <button type="button" class="icon-btn menu-btn" aria-label="Menu" aria-expanded={open} aria-controls="nav" onClick={() => setOpen(!open)}>☰</button>
        <a class="brand" href="/ui"><span class="brand-mark" aria-hidden="true">◆</span> Tollgate</a>
      </header>
      <nav id="nav" class="sidebar" aria-label="Main">
        <a class="brand brand-side" href="/ui"><span class="brand-mark" aria-hidden="true">◆</span> Tollgate</a>
        <ul>
          {PAGES.filter((p) => p.nav?.()).map((p) => (
            <li key={p.path}>
              <a href={p.path} class={active(p.path) ? 'active' : ''} aria-current={active(p.path) ? 'page' : undefined} onClick={() => setOpen(false)}>{p.title}</a>
            </li>
          ))}
        </ul>
        <div class="whoami">
          <div class="whoami-name">{displayName.value}</div>
          <div class="muted small">{role?.superadmin ? 'master key' : role?.role}</div>
          <button type="button" class="btn btn-ghost btn-small" onClick={out}>Sign out</button>
        </div>
      </nav>
      <main id="main" class="content" tabIndex={-1}>{children}</main>
      <ConfirmHost />
      <ToastHost />
    </div>
  );
}
