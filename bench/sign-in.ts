import { randomUUID } from 'node:crypto';
import { generateKeyPair, type TestIdentityProvider } from '../packages/auth/src/testing.js';
import type { AdminApi } from './admin.js';
import type { Measurement } from './measure.js';
import { SIGN_IN_PATH } from './scenarios.js';
import { externalIdOf, userNameOf } from './seed.js';

// Issue 19's budgets beyond the two throughput scenarios (scenarios.ts signInByClaims, signInByIdToken): the
// ID tokens those send, the short check that bad input never resolves, and the relink after a mapping change.

export interface IdentityMapping {
  claim: string;
  attribute: 'externalId' | 'userName' | 'email' | 'employeeNumber';
}

/** The bench provider's mapping (docs/applications.md §1, the Keycloak and Okta presets): `sub` against `externalId`. */
export const BENCH_MAPPING: IdentityMapping = { claim: 'sub', attribute: 'externalId' };
/** What the relink changes it to: a claim `email` against `userName`, which the seed also writes for every user. */
export const RELINK_MAPPING: IdentityMapping = { claim: 'email', attribute: 'userName' };

/**
 * One ID token per `every` users (at least `minimum`), for random seeded users: issued by the test provider's
 * signing key with its issuer, for our client id there, valid for an hour (OpenID Connect Core 1.0 §2).
 */
export async function mintIdTokens(idp: TestIdentityProvider, userIds: string[], options: { every?: number; minimum?: number } = {}): Promise<Array<{ token: string; userId: string }>> {
  const count = Math.min(userIds.length, Math.max(options.minimum ?? 20, Math.ceil(userIds.length / (options.every ?? 1000))));
  const now = Math.floor(Date.now() / 1000);
  const tokens: Array<{ token: string; userId: string }> = [];
  for (let k = 0; k < count; k += 1) {
    // Spread over the whole seed, so the lookups hit the whole index.
    const index = Math.floor((k * userIds.length) / count);
    const token = await idp.sign({ sub: externalIdOf('u', index), aud: idp.audience, iat: now, exp: now + 3600, nonce: undefined, scope: undefined }, { typ: 'JWT' });
    tokens.push({ token, userId: userIds[index]! });
  }
  return tokens;
}

export interface BadInputCase {
  case: string;
  /** `status code[/reason]` expected and answered. */
  expected: string;
  answered: string;
  ok: boolean;
}

export interface BadInputResult {
  cases: BadInputCase[];
  /** Cases answered otherwise than expected (a `found` among them is the worst). */
  wrong: number;
}

/** POSTs one sign-in resolution as the application; the status and parsed body. */
async function resolve(baseUrl: string, token: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}${SIGN_IN_PATH}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { unparsed: text.slice(0, 200) };
  }
  return { status: response.status, body: parsed };
}

/**
 * "Bad input answers a precise 4xx and never `found`" (docs/applications.md §2): each case names a seeded
 * user, so an endpoint that looked past the fault would find them.
 */
export async function checkBadInput(baseUrl: string, applicationToken: string, providerId: string, idp: TestIdentityProvider): Promise<BadInputResult> {
  const sub = externalIdOf('u', 0);
  const now = Math.floor(Date.now() / 1000);
  const foreign = await generateKeyPair('RS256');
  const cases: Array<{ name: string; body: unknown; status: number; code: string; reason?: string }> = [
    { name: 'unknown provider', body: { providerId: randomUUID(), claims: { sub } }, status: 404, code: 'not_found' },
    { name: 'malformed ID token', body: { providerId, idToken: 'not-a-jwt' }, status: 400, code: 'invalid_id_token', reason: 'malformed' },
    {
      name: 'ID token signed by another key',
      // The provider's kid, so the gateway tries the provider's key and the signature fails (not an unknown kid).
      body: { providerId, idToken: await idp.sign({ sub, aud: idp.audience, iat: now, exp: now + 300, scope: undefined }, { typ: 'JWT', key: foreign.privateKey }) },
      status: 400,
      code: 'invalid_id_token',
      reason: 'signature',
    },
    {
      name: 'ID token for another audience',
      body: { providerId, idToken: await idp.sign({ sub, aud: 'other-app', iat: now, exp: now + 300, scope: undefined }, { typ: 'JWT' }) },
      status: 400,
      code: 'invalid_id_token',
      reason: 'claim_aud',
    },
    {
      name: 'expired ID token',
      body: { providerId, idToken: await idp.sign({ sub, aud: idp.audience, iat: now - 7200, exp: now - 3600, scope: undefined }, { typ: 'JWT' }) },
      status: 400,
      code: 'invalid_id_token',
      reason: 'expired',
    },
    { name: 'claim of the wrong type (array)', body: { providerId, claims: { sub: [sub] } }, status: 400, code: 'invalid_input' },
    { name: 'claim of the wrong type (number)', body: { providerId, claims: { sub: 42 } }, status: 400, code: 'invalid_input' },
    { name: 'claims not an object', body: { providerId, claims: sub }, status: 400, code: 'invalid_request' },
  ];
  const results: BadInputCase[] = [];
  for (const item of cases) {
    const answer = await resolve(baseUrl, applicationToken, item.body);
    const details = answer.body.details as { reason?: unknown } | undefined;
    const expected = `${item.status} ${item.code}${item.reason ? `/${item.reason}` : ''}`;
    const answered = `${answer.status} ${String(answer.body.code ?? answer.body.status)}${item.reason ? `/${String(details?.reason)}` : ''}`;
    results.push({ case: item.name, expected, answered, ok: answered === expected && answer.body.status !== 'found' });
  }
  return { cases: results, wrong: results.filter((result) => !result.ok).length };
}

export interface LinkRebuildProgress {
  status: 'running' | 'done';
  processed: number;
  total: number;
  createdAt: string;
  finishedAt: string | null;
}

export interface RelinkResult {
  from: IdentityMapping;
  to: IdentityMapping;
  /** Users the rebuild covered (its `total`) and the time between its creation and its end, by the database's clock. */
  users: number;
  seconds: number;
  usersPerSecond: number;
  /** From the PATCH to the harness seeing `done` (polling the provider every 100 ms). */
  observedSeconds: number;
  /** GET /Users/:id in a closed loop from before the PATCH until the rebuild was done. */
  during: Measurement;
  /** Resolution by the new mapping's claim after the rebuild, and by the old one once it is put back. */
  problems: string[];
}

async function waitForRebuild(api: AdminApi, providerId: string, createdAt: string, signal: AbortSignal | undefined): Promise<LinkRebuildProgress> {
  // Bounded so a stuck rebuild fails the run instead of hanging it.
  const until = performance.now() + 30 * 60_000;
  while (performance.now() < until) {
    if (signal?.aborted) throw new Error('interrupted');
    const provider = await api.call('GET', `/api/admin/auth-providers/${providerId}`);
    const rebuild = provider.linkRebuild as LinkRebuildProgress | null;
    if (rebuild && rebuild.createdAt === createdAt && rebuild.status === 'done') return rebuild;
    if (rebuild && rebuild.createdAt !== createdAt) throw new Error(`another rebuild of the provider started (${rebuild.createdAt}) while waiting for the one of ${createdAt}`);
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error('the link rebuild did not finish within 30 minutes');
}

/** Changes the provider's mapping; the rebuild it started, as the PATCH answered it. */
async function changeMapping(api: AdminApi, providerId: string, mapping: IdentityMapping): Promise<LinkRebuildProgress> {
  const patched = await api.call('PATCH', `/api/admin/auth-providers/${providerId}`, { identityMapping: mapping });
  const rebuild = patched.linkRebuild as LinkRebuildProgress | null;
  if (!rebuild) throw new Error(`changing the identity mapping to ${mapping.claim} -> ${mapping.attribute} started no rebuild`);
  return rebuild;
}

/**
 * Relinking after a mapping change: `load` (a closed loop of GET /Users/:id, stopped by the signal it gets)
 * runs from before the PATCH until the provider reports the rebuild done; then resolution by the new claim is
 * checked, and the mapping put back (that second rebuild is waited for, not measured).
 */
export async function measureRelink(input: {
  api: AdminApi;
  baseUrl: string;
  applicationToken: string;
  providerId: string;
  userIds: string[];
  load: (signal: AbortSignal) => Promise<Measurement>;
  signal?: AbortSignal | undefined;
}): Promise<RelinkResult> {
  const { api, providerId } = input;
  const stop = new AbortController();
  const forward = (): void => stop.abort();
  input.signal?.addEventListener('abort', forward, { once: true });
  const during = input.load(stop.signal);
  // When the PATCH or the wait fails, that error is the one to report; the load's own is then not awaited.
  during.catch(() => undefined);
  let rebuild: LinkRebuildProgress;
  const started = performance.now();
  try {
    const scheduled = await changeMapping(api, providerId, RELINK_MAPPING);
    rebuild = await waitForRebuild(api, providerId, scheduled.createdAt, input.signal);
  } finally {
    stop.abort();
    input.signal?.removeEventListener('abort', forward);
  }
  const observedSeconds = (performance.now() - started) / 1000;
  const measurement = await during;
  const seconds = (Date.parse(rebuild.finishedAt!) - Date.parse(rebuild.createdAt)) / 1000;
  const problems: string[] = [];
  if (rebuild.processed !== rebuild.total) problems.push(`the rebuild processed ${rebuild.processed} of ${rebuild.total} users`);
  const probe = async (claims: Record<string, string>, index: number): Promise<void> => {
    const answer = await resolve(input.baseUrl, input.applicationToken, { providerId, claims });
    const user = answer.body.user as { id?: string } | undefined;
    if (answer.status !== 200 || answer.body.status !== 'found' || user?.id !== input.userIds[index]) problems.push(`resolving ${JSON.stringify(claims)} answered ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
  };
  const last = input.userIds.length - 1;
  await probe({ email: userNameOf('u', last) }, last);
  const back = await changeMapping(api, providerId, BENCH_MAPPING);
  await waitForRebuild(api, providerId, back.createdAt, input.signal);
  await probe({ sub: externalIdOf('u', 0) }, 0);
  return {
    from: BENCH_MAPPING,
    to: RELINK_MAPPING,
    users: rebuild.total,
    seconds,
    usersPerSecond: seconds > 0 ? rebuild.total / seconds : 0,
    observedSeconds,
    during: measurement,
    problems,
  };
}
