import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { startTestIdentityProvider, TEST_RESOURCES, type TestIdentityProvider } from './testing.js';
import { createOidcDiscovery } from './discovery.js';

describe('the test identity provider', () => {
  let idp: TestIdentityProvider;
  beforeAll(async () => {
    idp = await startTestIdentityProvider({ audience: 'roster-scim' });
  });
  afterAll(() => idp.close());

  it('issues RS256 at+jwt client-credentials tokens with scim_v2 for our audience', async () => {
    const token = await idp.issueAccessToken();
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', typ: 'at+jwt', kid: idp.kid() });
    expect(decodeJwt(token)).toMatchObject({ iss: idp.issuer, aud: 'roster-scim', sub: 'scim-robot', scope: 'scim_v2' });
  });

  it('issues tokens for another audience and without scim_v2 on request', async () => {
    expect(decodeJwt(await idp.issueAccessToken({ resource: TEST_RESOURCES.otherApp }))).toMatchObject({ aud: 'other-app' });
    expect(decodeJwt(await idp.issueAccessToken({ resource: TEST_RESOURCES.readOnly, scope: 'read' }))).toMatchObject({ scope: 'read' });
  });

  it('is found by OpenID Connect discovery only when insecure issuers are allowed', async () => {
    const allowed = await createOidcDiscovery({ allowInsecureIssuers: true }).discover(idp.issuer);
    expect(allowed).toMatchObject({ ok: true, metadata: { issuer: idp.issuer, jwks_uri: `${idp.issuer}/jwks`, token_endpoint: `${idp.issuer}/token` } });
    const refused = await createOidcDiscovery({ allowInsecureIssuers: false }).discover(idp.issuer);
    expect(refused).toMatchObject({ ok: false, error: { code: 'OAUTH_HTTP_REQUEST_FORBIDDEN' } });
    if (!refused.ok) expect(refused.error.message).toContain('ROSTER_ALLOW_INSECURE_ISSUERS=1');
  });
});
