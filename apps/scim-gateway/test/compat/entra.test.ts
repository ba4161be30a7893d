import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { replay, type ReplayFixture } from './replay.js';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/entra.json', import.meta.url), 'utf8')) as ReplayFixture;

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => gw?.close());

describe('Microsoft Entra ID provisioning (recorded requests: fixtures/entra.json)', () => {
  for (const scenario of fixture.scenarios) {
    it(`replays "${scenario.name}" and gets the expected answer to every request`, async () => {
      await replay(gw, scenario);
    });
  }
});

// QUIRK of Microsoft's reference tests (scim/resource/project.ts, valueFilterSelector): a value filter in
// `attributes` keeps only the values it selects. The scenarios above left users with work emails.
describe('attributes=emails[type eq "work"] (Microsoft SCIM reference tests)', () => {
  it('returns only the selected values of the attribute, besides id, meta and schemas', async () => {
    const created = await gw.scim('POST', '/Users', {
      userName: 'two-emails@contoso.com',
      emails: [{ type: 'work', value: 'work@contoso.com' }, { type: 'home', value: 'home@example.org' }],
    });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    const response = await gw.scim('GET', `/Users/${id}?attributes=${encodeURIComponent('emails[type eq "work"]')}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      id,
      emails: [{ type: 'work', value: 'work@contoso.com' }],
      meta: expect.objectContaining({ resourceType: 'User', version: 'W/"1"' }),
    });
    const none = await gw.scim('GET', `/Users/${id}?attributes=${encodeURIComponent('emails[type eq "other"]')}`);
    expect(none.body).not.toHaveProperty('emails');
  });
});
