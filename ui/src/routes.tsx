// The dashboard's pages: path, title, who sees it in the navigation, and the module that draws it
// (loaded on first visit, one chunk per page). Visibility only hides what the API would refuse.
import { lazy } from 'preact-iso';
import type { ComponentType } from 'preact';
import { canWrite, myTeams, ownedTeamIds, readsOrg } from './session.ts';

export interface PageDef {
  path: string;
  title: string;
  /** shown in the navigation, for whom */
  nav?: () => boolean;
  component: ComponentType<Record<string, unknown>>;
  /** reachable without signing in */
  public?: boolean;
}

const everyone = () => true;

export const PAGES: PageDef[] = [
  { path: '/ui', title: 'Overview', nav: everyone, component: lazy(() => import('./pages/overview.tsx')) },
  { path: '/ui/keys', title: 'Keys', nav: everyone, component: lazy(() => import('./pages/keys.tsx')) },
  { path: '/ui/keys/:id', title: 'Key', component: lazy(() => import('./pages/key-detail.tsx')) },
  { path: '/ui/provisioned-keys', title: 'Provisioned keys', nav: () => myTeams.value.length > 0 || readsOrg.value, component: lazy(() => import('./pages/provisioned-keys.tsx')) },
  { path: '/ui/teams', title: 'Teams', nav: everyone, component: lazy(() => import('./pages/teams.tsx')) },
  { path: '/ui/teams/:id', title: 'Team', component: lazy(() => import('./pages/team-detail.tsx')) },
  { path: '/ui/spend', title: 'Spend', nav: everyone, component: lazy(() => import('./pages/spend.tsx')) },
  { path: '/ui/logs', title: 'Request logs', nav: everyone, component: lazy(() => import('./pages/logs.tsx')) },
  { path: '/ui/people', title: 'People', nav: () => readsOrg.value, component: lazy(() => import('./pages/people.tsx')) },
  { path: '/ui/access-groups', title: 'Access groups', nav: () => readsOrg.value, component: lazy(() => import('./pages/access-groups.tsx')) },
  { path: '/ui/providers', title: 'Providers', nav: () => readsOrg.value, component: lazy(() => import('./pages/providers.tsx')) },
  { path: '/ui/routes', title: 'Routes', nav: () => readsOrg.value, component: lazy(() => import('./pages/routes.tsx')) },
  { path: '/ui/prices', title: 'Prices', nav: () => readsOrg.value, component: lazy(() => import('./pages/prices.tsx')) },
  { path: '/ui/management-keys', title: 'Management keys', nav: () => readsOrg.value || ownedTeamIds.value.size > 0, component: lazy(() => import('./pages/management-keys.tsx')) },
  { path: '/ui/audit', title: 'Audit log', nav: () => readsOrg.value || ownedTeamIds.value.size > 0, component: lazy(() => import('./pages/audit.tsx')) },
  { path: '/ui/settings', title: 'Settings', nav: () => canWrite.value || readsOrg.value, component: lazy(() => import('./pages/settings.tsx')) },
  { path: '/ui/sign-in', title: 'Sign in', public: true, component: lazy(() => import('./pages/sign-in.tsx')) },
  { path: '/ui/invitations/:token', title: 'Accept invitation', public: true, component: lazy(() => import('./pages/accept-invitation.tsx')) },
];
