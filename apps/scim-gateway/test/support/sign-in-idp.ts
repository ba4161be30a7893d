import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import { exportJWK, generateKeyPair } from '@roster/auth/testing';

// The OpenID Connect provider the example sign-in app (examples/sign-in-app) signs people in with in tests:
// node-oidc-provider on 127.0.0.1 with one public client (authorization code + PKCE), whose login and consent
// are answered at once for `person`, so a browser (test/browser/sign-in-app.test.ts) or plain HTTP requests
// following redirects (test/applications/sign-in-app-events.test.ts) get through without a form.

export const SIGN_IN_APP_CLIENT_ID = 'sign-in-app';

export interface SignInIdp {
  issuer: string;
  /** Who signs in at the next login (the IdP's account id, which is the ID token's `sub`). */
  person: string;
  close(): Promise<void>;
}

export async function startSignInIdp(redirectUri: string): Promise<SignInIdp> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'idp-key', alg: 'RS256', use: 'sig' };
  const state = { person: 'kc-ada' };
  const ready: { provider?: Provider } = {};
  const server = http.createServer((req, res) => {
    void (async () => {
      const provider = ready.provider!;
      if (req.url?.startsWith('/interaction/')) {
        const details = await provider.interactionDetails(req, res);
        if (details.prompt.name === 'login') {
          await provider.interactionFinished(req, res, { login: { accountId: state.person } }, { mergeWithLastSubmission: false });
        } else {
          const grant = new provider.Grant({ accountId: details.session!.accountId, clientId: String(details.params.client_id) });
          grant.addOIDCScope(String(details.params.scope));
          await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
        }
        return;
      }
      await provider.callback()(req, res);
    })().catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: SIGN_IN_APP_CLIENT_ID, token_endpoint_auth_method: 'none', redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'] }],
    jwks: { keys: [jwk] } as never,
    claims: { openid: ['sub'], email: ['email'] },
    cookies: { keys: ['sign-in-app-test-cookie-key-0123'] },
    findAccount: async (_ctx: KoaContextWithOIDC, id: string) => ({ accountId: id, claims: async () => ({ sub: id, email: `${id}@example.com` }) }),
    interactions: { url: async (_ctx: KoaContextWithOIDC, interaction) => `/interaction/${interaction.uid}` },
    features: { devInteractions: { enabled: false } },
  });
  provider.proxy = false;
  ready.provider = provider;
  return Object.assign(state, {
    issuer,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
