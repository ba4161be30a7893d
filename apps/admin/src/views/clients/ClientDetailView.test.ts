import { afterEach, describe, expect, it } from 'vitest';
import ClientDetailView from './ClientDetailView.vue';
import { settle, setupApi, type Reply } from '../../test/fake-fetch.ts';
import { mountWithApp } from '../../test/mount.ts';

const provider = { id: '11111111-1111-4111-8111-111111111111', name: 'Okta', kind: 'oidc', issuer: 'https://okta.example' };
const client = {
  id: '33333333-3333-4333-8333-333333333333',
  name: 'Okta OAuth',
  authProviderId: provider.id,
  authMethod: 'static_token',
  dataScope: 'all',
  createdAt: '2026-11-28T00:00:00Z',
};

afterEach(() => {
  document.body.innerHTML = '';
});

describe('ClientDetailView', () => {
  it('keeps what the admin typed when the providers list arrives after the client', async () => {
    // The providers answer only when the test says so: the client is read first, the admin starts typing.
    let answerProviders: (reply: Reply) => void = () => undefined;
    const providersAnswered = new Promise<Reply>((resolve) => (answerProviders = resolve));
    const { pinia } = setupApi({
      [`GET /api/admin/scim-clients/${client.id}`]: { body: client },
      'GET /api/admin/auth-providers': () => providersAnswered,
      'GET /api/admin/info': { body: {} },
      [`GET /api/admin/scim-clients/${client.id}/tokens`]: { body: { items: [], total: 0 } },
    });
    const { wrapper } = await mountWithApp(ClientDetailView, pinia, { path: `/clients/${client.id}`, props: { id: client.id } });
    await settle();
    const name = wrapper.find('#detail-name');
    expect((name.element as HTMLInputElement).value).toBe('Okta OAuth');
    await name.setValue('Okta OAuth (EU)');
    answerProviders({ body: { items: [provider], total: 1 } });
    await settle();
    expect((wrapper.find('#detail-name').element as HTMLInputElement).value).toBe('Okta OAuth (EU)');
    wrapper.unmount();
  });
});
