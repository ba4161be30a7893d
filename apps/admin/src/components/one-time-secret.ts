/** A secret shown once: a static token, or an OAuth client id + secret. Held only by the dialog's owner until it closes. */
export type OneTimeSecret = { kind: 'token'; token: string } | { kind: 'oauth'; clientId: string; clientSecret: string };
