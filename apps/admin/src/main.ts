import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { configureApiClient } from './api/client.ts';
import { createAppRouter } from './router.ts';
import { useSessionStore } from './stores/session.ts';
import './styles.css';

const pinia = createPinia();
const router = createAppRouter(pinia);

configureApiClient({
  csrfToken: () => useSessionStore(pinia).csrfToken,
  // The session ended on the server (expired, signed out elsewhere): back to sign-in, then back here.
  onUnauthorized: () => {
    useSessionStore(pinia).clear();
    const current = router.currentRoute.value;
    if (!current.meta.public) void router.push({ name: 'sign-in', query: { redirect: current.fullPath } });
  },
});

createApp(App).use(pinia).use(router).mount('#app');
