import { createRouter, createWebHistory, type Router, type RouterHistory } from 'vue-router';
import type { Pinia } from 'pinia';
import { useSessionStore } from './stores/session.ts';

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without a session (sign-in, first-admin setup). */
    public?: boolean;
  }
}

export const routes = [
  { path: '/', redirect: { name: 'clients' } },
  { path: '/sign-in', name: 'sign-in', component: () => import('./views/auth/SignInView.vue'), meta: { public: true } },
  { path: '/setup', name: 'setup', component: () => import('./views/auth/SetupView.vue'), meta: { public: true } },
  { path: '/clients', name: 'clients', component: () => import('./views/clients/ClientsView.vue') },
  { path: '/clients/new', name: 'client-new', component: () => import('./views/clients/ClientCreateView.vue') },
  { path: '/clients/:id', name: 'client', component: () => import('./views/clients/ClientDetailView.vue'), props: true },
  { path: '/auth-providers', name: 'providers', component: () => import('./views/providers/ProvidersView.vue') },
  { path: '/auth-providers/new/:kind(oidc|saml)', name: 'provider-new', component: () => import('./views/providers/ProviderFormView.vue'), props: true },
  { path: '/auth-providers/:id', name: 'provider', component: () => import('./views/providers/ProviderFormView.vue'), props: true },
  { path: '/settings', name: 'settings', component: () => import('./views/settings/SettingsView.vue') },
  { path: '/admins', name: 'admins', component: () => import('./views/admins/AdminsView.vue') },
  { path: '/directory/users', name: 'users', component: () => import('./views/directory/UsersView.vue') },
  { path: '/directory/users/:id', name: 'user', component: () => import('./views/directory/UserDetailView.vue'), props: true },
  { path: '/directory/groups', name: 'groups', component: () => import('./views/directory/GroupsView.vue') },
  { path: '/directory/groups/:id', name: 'group', component: () => import('./views/directory/GroupDetailView.vue'), props: true },
  { path: '/activity', name: 'activity', component: () => import('./views/activity/ActivityView.vue') },
  { path: '/schema-extensions', name: 'schema-extensions', component: () => import('./views/schema-extensions/SchemaExtensionsView.vue') },
  { path: '/event-streams', name: 'event-streams', component: () => import('./views/events/EventStreamsView.vue') },
  { path: '/event-streams/new', name: 'event-stream-new', component: () => import('./views/events/EventStreamFormView.vue') },
  { path: '/event-streams/:id/edit', name: 'event-stream-edit', component: () => import('./views/events/EventStreamFormView.vue'), props: true },
  { path: '/event-streams/:id', name: 'event-stream', component: () => import('./views/events/EventStreamDetailView.vue'), props: true },
  { path: '/applications', name: 'applications', component: () => import('./views/applications/ApplicationsView.vue') },
  { path: '/:pathMatch(.*)*', name: 'not-found', component: () => import('./views/NotFoundView.vue') },
];

/** The router with its guard: every non-public screen needs a session (asked of the server once per page load). */
export function createAppRouter(pinia: Pinia, history: RouterHistory = createWebHistory('/admin/')): Router {
  const router = createRouter({ history, routes, scrollBehavior: () => ({ top: 0 }) });
  router.beforeEach(async (to) => {
    if (to.meta.public) return true;
    const session = useSessionStore(pinia);
    try {
      if (await session.ensureChecked()) return true;
    } catch {
      // The server is unreachable or failing: the sign-in screen shows that error when the admin tries.
    }
    return { name: 'sign-in', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} };
  });
  return router;
}
