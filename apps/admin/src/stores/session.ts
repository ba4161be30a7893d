import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { ApiError } from '../api/client.ts';
import { sessionApi, type AdminSession } from '../api/session.ts';

// The signed-in admin and the CSRF token of their session. The session cookie itself is HttpOnly: the browser
// keeps it, this app never sees it. Nothing here is written to localStorage or sessionStorage.
export const useSessionStore = defineStore('session', () => {
  const admin = ref<{ id: string; email: string } | null>(null);
  const csrfToken = ref<string | null>(null);
  /** True once the server was asked whether a session exists (so the router asks only once). */
  const checked = ref(false);
  const signedIn = computed(() => admin.value !== null);

  function apply(session: AdminSession) {
    admin.value = { id: session.id, email: session.email };
    csrfToken.value = session.csrfToken;
    checked.value = true;
  }

  /** Asks the server for the current session once; a 401 means signed out. Other errors propagate. */
  async function ensureChecked(): Promise<boolean> {
    if (checked.value) return signedIn.value;
    try {
      apply(await sessionApi.current());
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) throw error;
      clear();
    }
    return signedIn.value;
  }

  async function signIn(email: string, password: string) {
    apply(await sessionApi.signIn(email, password));
  }

  async function signOut() {
    try {
      await sessionApi.signOut();
    } finally {
      clear();
    }
  }

  async function setupFirstAdmin(token: string, email: string, password: string) {
    await sessionApi.setup(token, email, password);
    await signIn(email, password);
  }

  /** Forget the session locally (after sign-out or when the server answered 401). */
  function clear() {
    admin.value = null;
    csrfToken.value = null;
    checked.value = true;
  }

  function $reset() {
    admin.value = null;
    csrfToken.value = null;
    checked.value = false;
  }

  return { admin, csrfToken, checked, signedIn, ensureChecked, signIn, signOut, setupFirstAdmin, clear, $reset };
});
