import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import CredentialStatus from './CredentialStatus.vue';
import type { ScimClient } from '../api/scim-clients.ts';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const client = (patch: Partial<ScimClient>): ScimClient => ({
  id: 'c1', name: 'K', authProviderId: 'p1', authProviderName: 'IdP', authMethod: 'static_token', jwtSubject: null, dataScope: 'all', oauthClientId: null, usersProvisioned: 0, lastActivityAt: null,
  credentials: { active: 0, soonestExpiry: null, expiringSoon: false }, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', ...patch,
});

describe('CredentialStatus', () => {
  it('warns when the next credential expires within 30 days', () => {
    const w = mount(CredentialStatus, { props: { client: client({ credentials: { active: 1, soonestExpiry: '2026-12-20T00:00:00Z', expiringSoon: true } }), now: NOW } });
    expect(w.text()).toMatch(/^Expires /);
    expect(w.find('.badge-warn').exists()).toBe(true);
  });

  it('is OK beyond 30 days, flags no active credential, and says JWT keys come from the provider', () => {
    expect(mount(CredentialStatus, { props: { client: client({ credentials: { active: 2, soonestExpiry: '2027-06-01T00:00:00Z', expiringSoon: false } }), now: NOW } }).text()).toBe('OK');
    expect(mount(CredentialStatus, { props: { client: client({ credentials: { active: 0, soonestExpiry: null, expiringSoon: false } }), now: NOW } }).text()).toBe('No active credential');
    expect(mount(CredentialStatus, { props: { client: client({ authMethod: 'jwt' }), now: NOW } }).text()).toBe('Keys from provider');
  });
});
