import { afterEach, describe, expect, it } from 'vitest';
import SchemaExtensionsView from './SchemaExtensionsView.vue';
import { useSessionStore } from '../../stores/session.ts';
import { settle, setupApi } from '../../test/fake-fetch.ts';
import { mountWithApp } from '../../test/mount.ts';

afterEach(() => {
  document.body.innerHTML = '';
});

const URN = 'urn:ietf:params:scim:schemas:extension:acme:2.0:User';
const declared = {
  id: 'e1',
  urn: URN,
  resourceType: 'User',
  required: false,
  name: 'User',
  description: '',
  attributes: [{ name: 'costCenter', type: 'string', filterable: true }],
  version: 1,
  createdAt: '2026-12-07T00:00:00Z',
  updatedAt: '2026-12-07T00:00:00Z',
};

async function mountView(routes: Parameters<typeof setupApi>[0]) {
  const { pinia, server } = setupApi({ 'GET /api/admin/schema-extensions/unrecognized': { body: { items: [] } }, ...routes });
  const session = useSessionStore(pinia);
  session.admin = { id: 'a1', email: 'me@example.com' };
  session.csrfToken = 'csrf-1';
  const { wrapper } = await mountWithApp(SchemaExtensionsView, pinia, { path: '/schema-extensions' });
  await settle();
  return { wrapper, server };
}

function button(wrapper: Awaited<ReturnType<typeof mountView>>['wrapper'], label: string) {
  return wrapper.findAll('button').find((b) => b.text() === label)!;
}

describe('SchemaExtensionsView', () => {
  it('declares an extension from the Entra preset', async () => {
    const { wrapper, server } = await mountView({
      'GET /api/admin/schema-extensions': { body: { items: [], total: 0 } },
      'POST /api/admin/schema-extensions': { status: 201, body: declared },
    });
    expect(wrapper.text()).toContain('No extension is declared yet.');
    await button(wrapper, 'Microsoft Entra ID').trigger('click');
    expect((wrapper.find('#extension-urn').element as HTMLInputElement).value).toBe(URN);
    await wrapper.find('form').trigger('submit');
    await settle();
    const [call] = server.callsTo('POST /api/admin/schema-extensions');
    expect(call!.body).toMatchObject({ urn: URN, resourceType: 'User', attributes: [{ name: 'costCenter', type: 'string', filterable: true }, { name: 'employeeType' }, { name: 'badges', type: 'complex', multiValued: true }] });
    expect(call!.headers['X-CSRF-Token'] ?? call!.headers['x-csrf-token']).toBe('csrf-1');
    wrapper.unmount();
  });

  it('asks before a change that removes stored values, then sends it confirmed', async () => {
    const { wrapper, server } = await mountView({
      'GET /api/admin/schema-extensions': { body: { items: [declared], total: 1 } },
      'PATCH /api/admin/schema-extensions/e1': (call) =>
        call.query.get('confirm') === 'true'
          ? { body: { ...declared, attributes: [], version: 2 } }
          : { status: 409, body: { code: 'conflict', message: 'This change removes stored values: costCenter (removed, values in 3 resources). Send it again with confirm to remove them.', details: { confirmationRequired: true } } },
    });
    await button(wrapper, 'Edit').trigger('click');
    await wrapper.find('#extension-attributes').setValue('[]');
    await wrapper.find('form').trigger('submit');
    await settle();
    expect(document.querySelector('dialog')?.textContent).toContain('values in 3 resources');
    const confirm = [...document.querySelectorAll<HTMLButtonElement>('dialog button')].find((b) => b.textContent?.trim() === 'Remove the values')!;
    confirm.click();
    await settle();
    expect(server.callsTo('PATCH /api/admin/schema-extensions/e1').map((c) => c.query.get('confirm'))).toEqual([null, 'true']);
    wrapper.unmount();
  });

  it('refuses attributes that are not JSON without calling the server', async () => {
    const { wrapper, server } = await mountView({ 'GET /api/admin/schema-extensions': { body: { items: [], total: 0 } } });
    await button(wrapper, 'Empty').trigger('click');
    await wrapper.find('#extension-attributes').setValue('[{');
    await wrapper.find('form').trigger('submit');
    expect(wrapper.find('[role="alert"]').text()).toBe('The attributes are not valid JSON.');
    expect(server.callsTo('POST /api/admin/schema-extensions')).toHaveLength(0);
    wrapper.unmount();
  });
});
