import { RosterApiError } from './errors.js';
import type { PollRequest, PollResponse, ResolveSignInRequest, ScimGroup, ScimListResponse, ScimUser, SignInResolution } from './types.js';

export type Credentials =
  /** A static bearer token of an application (`roster_ast_...`), or an access token obtained elsewhere. */
  | { token: string }
  /** OAuth client credentials (RFC 6749 §4.4): an access token is fetched from /oauth/token and renewed before expiry. */
  | { clientId: string; clientSecret: string; scope?: string };

export interface RosterClientOptions {
  /** Where Roster runs, e.g. `https://roster.example.com` (PUBLIC_URL). */
  baseUrl: string;
  credentials: Credentials;
  /** Defaults to the global fetch (Node 20). */
  fetch?: typeof fetch;
  /** Per request, milliseconds (default 10,000). */
  timeoutMs?: number;
}

/** Access tokens are renewed this long before they expire. */
const RENEW_BEFORE_MS = 30_000;

/**
 * A client for one application of a Roster server. Every method throws RosterApiError for an answer other
 * than success (4xx with Roster's code and message), so a refused sign-in is never mistaken for a found one.
 */
export function createRosterClient(options: RosterClientOptions) {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  let accessToken: { value: string; renewAt: number } | undefined;

  async function bearer(): Promise<string> {
    const credentials = options.credentials;
    if ('token' in credentials) return credentials.token;
    if (accessToken && accessToken.renewAt > Date.now()) return accessToken.value;
    const body = new URLSearchParams({ grant_type: 'client_credentials', ...(credentials.scope ? { scope: credentials.scope } : {}) });
    const basic = Buffer.from(`${encodeURIComponent(credentials.clientId)}:${encodeURIComponent(credentials.clientSecret)}`).toString('base64');
    const response = await doFetch(`${baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: body.toString(),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw await RosterApiError.from(response);
    const token = (await response.json()) as { access_token: string; expires_in: number };
    accessToken = { value: token.access_token, renewAt: Date.now() + Math.max(token.expires_in * 1000 - RENEW_BEFORE_MS, 1000) };
    return token.access_token;
  }

  async function call<T>(method: string, path: string, body?: unknown, contentType = 'application/json', signal?: AbortSignal): Promise<T> {
    const response = await doFetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${await bearer()}`, accept: contentType, ...(body === undefined ? {} : { 'content-type': contentType }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs),
    });
    // An access token revoked or expired early: fetch a new one once.
    if (response.status === 401 && !('token' in options.credentials) && accessToken) {
      accessToken = undefined;
      return call(method, path, body, contentType, signal);
    }
    if (!response.ok) throw await RosterApiError.from(response);
    return (await response.json()) as T;
  }

  const scim = <T>(method: string, path: string, body?: unknown): Promise<T> => call<T>(method, `/scim_v2${path}`, body, 'application/scim+json');

  return {
    /**
     * Who is signing in, and may they (scope signin.resolve)? Admit the person only on `found`; on `inactive`
     * show why (`reason`), on `unknown` and `ambiguous` refuse.
     */
    resolveSignIn: (request: ResolveSignInRequest): Promise<SignInResolution> => call<SignInResolution>('POST', '/api/v1/sign-in/resolve', request),

    /** Read-only SCIM (scope directory.read, RFC 7644 §3.4). */
    directory: {
      getUser: (id: string): Promise<ScimUser> => scim<ScimUser>('GET', `/Users/${encodeURIComponent(id)}`),
      getGroup: (id: string): Promise<ScimGroup> => scim<ScimGroup>('GET', `/Groups/${encodeURIComponent(id)}`),
      /** A page of users; `filter` is a SCIM filter (RFC 7644 §3.4.2.2), sent in a POST /.search body. */
      listUsers: (query: { filter?: string; startIndex?: number; count?: number } = {}): Promise<ScimListResponse<ScimUser>> =>
        scim('POST', '/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], ...query }),
      listGroups: (query: { filter?: string; startIndex?: number; count?: number } = {}): Promise<ScimListResponse<ScimGroup>> =>
        scim('POST', '/Groups/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], ...query }),
      async findUserByUserName(userName: string): Promise<ScimUser | undefined> {
        const page = await scim<ScimListResponse<ScimUser>>('POST', '/Users/.search', {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
          filter: `userName eq ${JSON.stringify(userName)}`,
          count: 1,
        });
        return page.Resources[0];
      },
    },

    /** One RFC 8936 poll of an event stream (scope events.poll, or the stream's own token). */
    pollEvents: (streamId: string, request: PollRequest, signal?: AbortSignal): Promise<PollResponse> =>
      call<PollResponse>('POST', `/api/v1/event-streams/${encodeURIComponent(streamId)}/poll`, request, 'application/json', signal),

    baseUrl,
  };
}

export type RosterClient = ReturnType<typeof createRosterClient>;
