import { defineStore } from 'pinia';
import { ref } from 'vue';
import { errorMessage } from '../api/client.ts';
import { scimClientsApi, type CreatedSecret, type CreatedToken, type Credential } from '../api/scim-clients.ts';

export type CredentialKind = 'token' | 'secret';

function strip(created: CreatedToken | CreatedSecret): Credential {
  const { id, kind, status, hint, createdAt, expiresAt, revokedAt, lastUsedAt } = created;
  return { id, kind, status, hint, createdAt, expiresAt, revokedAt, lastUsedAt };
}

// Tokens or secrets of the SCIM client on screen. Creating one returns the secret for the one-time dialog;
// the list keeps only the metadata (hint, dates).
export const useCredentialsStore = defineStore('credentials', () => {
  const clientId = ref<string | null>(null);
  const kind = ref<CredentialKind>('token');
  const items = ref<Credential[]>([]);
  const loading = ref(false);
  const error = ref<string | null>(null);

  async function load(forClientId: string, forKind: CredentialKind) {
    if (clientId.value !== forClientId || kind.value !== forKind) items.value = [];
    clientId.value = forClientId;
    kind.value = forKind;
    loading.value = true;
    error.value = null;
    try {
      const page = forKind === 'token' ? await scimClientsApi.listTokens(forClientId) : await scimClientsApi.listSecrets(forClientId);
      items.value = page.items;
    } catch (e) {
      error.value = errorMessage(e);
    } finally {
      loading.value = false;
    }
  }

  async function create(lifetimeDays: number): Promise<CreatedToken | CreatedSecret> {
    if (!clientId.value) throw new Error('no client loaded');
    const created =
      kind.value === 'token'
        ? await scimClientsApi.createToken(clientId.value, lifetimeDays)
        : await scimClientsApi.createSecret(clientId.value, lifetimeDays);
    items.value = [strip(created), ...items.value];
    return created;
  }

  async function revoke(credentialId: string) {
    if (!clientId.value) throw new Error('no client loaded');
    if (kind.value === 'token') await scimClientsApi.revokeToken(clientId.value, credentialId);
    else await scimClientsApi.revokeSecret(clientId.value, credentialId);
    const now = new Date().toISOString();
    items.value = items.value.map((c) => (c.id === credentialId ? { ...c, status: 'revoked' as const, revokedAt: c.revokedAt ?? now } : c));
  }

  function $reset() {
    clientId.value = null;
    kind.value = 'token';
    items.value = [];
    loading.value = false;
    error.value = null;
  }

  return { clientId, kind, items, loading, error, load, create, revoke, $reset };
});
