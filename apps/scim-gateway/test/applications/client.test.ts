import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRosterClient, RosterApiError } from '@roster/client';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

// @roster/client against a real gateway: sign-in resolution, read-only SCIM and OAuth client credentials,
// each refusal a RosterApiError with Roster's status and code.

let gateway: TestGateway;
let providerId: string;
let userId: string;

beforeAll(async () => {
  gateway = await startTestGateway();
  providerId = gateway.providerId;
  const created = await gateway.scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'lin@example.com', externalId: 'ext-lin', displayName: 'Lin' });
  expect(created.status).toBe(201);
  userId = (created.body as { id: string }).id;
});
afterAll(async () => gateway?.close());

describe('@roster/client', () => {
  it('resolves a sign-in and reads the directory with a static token', async () => {
    const application = await gateway.roster.services.applications.create({ name: 'Client app', authMethod: 'static_token', scopes: ['directory.read', 'signin.resolve'] });
    const roster = createRosterClient({ baseUrl: gateway.url, credentials: { token: application.token! } });
    // The test gateway's provider row has no mapping: the default, sub against externalId, applies.
    expect(await roster.resolveSignIn({ providerId, claims: { sub: 'ext-lin' } })).toMatchObject({ status: 'found', user: { id: userId, userName: 'lin@example.com' } });
    expect((await roster.directory.getUser(userId)).displayName).toBe('Lin');
    expect((await roster.directory.findUserByUserName('LIN@example.com'))?.id).toBe(userId);
    expect((await roster.directory.listUsers({ filter: 'userName sw "lin"' })).totalResults).toBe(1);
    const refused = await roster.resolveSignIn({ providerId, claims: { sub: 7 } }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RosterApiError);
    expect(refused).toMatchObject({ status: 400, code: 'invalid_input', message: 'the claim "sub" must be a string, not number' });
  });

  it('fetches an access token with client credentials and uses it', async () => {
    const application = await gateway.roster.services.applications.create({ name: 'OAuth client app', authMethod: 'oauth_client_credentials', scopes: ['signin.resolve'] });
    const roster = createRosterClient({ baseUrl: gateway.url, credentials: { clientId: application.clientId!, clientSecret: application.clientSecret! } });
    expect((await roster.resolveSignIn({ providerId, claims: { sub: 'nobody' } })).status).toBe('unknown');
    const denied = await roster.directory.getUser(userId).catch((error: unknown) => error);
    expect(denied).toMatchObject({ name: 'RosterApiError', status: 403 });
    const wrong = createRosterClient({ baseUrl: gateway.url, credentials: { clientId: application.clientId!, clientSecret: `roster_acs_${'x'.repeat(43)}` } });
    await expect(wrong.resolveSignIn({ providerId, claims: { sub: 'ext-lin' } })).rejects.toMatchObject({ status: 401, code: 'invalid_client' });
  });
});
