import { createSignInApp } from './app.js';

// Configuration from the environment (see README.md and .env.example); a missing variable stops the start
// with one line naming it.
function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`sign-in-app: set ${name} (see examples/sign-in-app/README.md)`);
    process.exit(1);
  }
  return value;
}

const port = Number(process.env.PORT ?? 3000);
const publicUrl = process.env.PUBLIC_URL ?? `http://127.0.0.1:${port}`;
const signIn = await createSignInApp({
  rosterUrl: required('ROSTER_URL'),
  rosterCredentials: { token: required('ROSTER_TOKEN') },
  providerId: required('ROSTER_PROVIDER_ID'),
  providerName: process.env.PROVIDER_NAME ?? 'your organisation',
  issuer: required('OIDC_ISSUER'),
  clientId: required('OIDC_CLIENT_ID'),
  clientSecret: process.env.OIDC_CLIENT_SECRET,
  publicUrl,
  allowInsecureIssuer: process.env.ALLOW_INSECURE_ISSUER === '1',
  eventStreamId: process.env.ROSTER_EVENT_STREAM_ID,
});
signIn.startEvents((error) => console.warn('event poll failed:', error instanceof Error ? error.message : error));
const server = signIn.app.listen(port, process.env.HOST ?? '127.0.0.1', () => console.log(`sign-in-app on ${publicUrl}`));
process.on('SIGTERM', () => {
  server.close();
  void signIn.stop();
});
