import type { CannonRequest } from './measure.js';
import { CORE_USER, bulkUsersBody, externalIdOf, patchMembers, userBody } from './seed.js';

// The scenarios run against the gateway, each a request builder plus a correctness check of the answer.
// Random choices use Math.random: any existing user is as good as another, and the indexes do not care.

export interface Fixture {
  scimPath: string;
  userNames: string[];
  userIds: string[];
  /** Users in the list (seeded + pool) when the paging scenarios run. */
  totalUsers: number;
  bigGroupId: string;
  smallGroupId: string;
  /** A cursor from walking the list, within the last 1,000 users. */
  cursorNearEnd: string;
  /** Users who are in no big group yet: PATCH add takes 1,000 at a time from here. */
  addPool: string[];
  /** Big-group members not yet removed by a PATCH remove scenario. */
  removable: string[];
  /** Members the PATCH remove scenarios took out of the big group, for the PATCH add-one scenarios to put back. */
  removed: string[];
  /** Counter for users created by scenarios (unique userNames across scenarios and runs). */
  created: { next: number; series: string };
  /** Sign-in resolution (issue 19): set up only when a sign-in scenario runs. */
  signIn?: SignInFixture;
}

export interface SignInFixture {
  /** The bench provider, whose identity mapping reads the claim `sub` against the user's `externalId`. */
  providerId: string;
  /** Raw OIDC ID tokens signed by the test provider, each for one seeded user, minted before the scenario. */
  idTokens: Array<{ token: string; userId: string }>;
}

/** The sign-in resolution endpoint (docs/applications.md §2). */
export const SIGN_IN_PATH = '/api/v1/sign-in/resolve';

export interface Scenario {
  id: string;
  title: string;
  connections: number;
  /** `application`: the bench application's static token (scope signin.resolve). */
  auth: 'static' | 'oauth' | 'jwt' | 'none' | 'application';
  request: CannonRequest;
  /** For pool-limited scenarios: at most this many requests. */
  amount?: () => number;
}

type Json = Record<string, unknown>;

function parse(body: string): Json | undefined {
  try {
    return JSON.parse(body) as Json;
  } catch {
    return undefined;
  }
}

function pick<T>(items: T[]): { value: T; index: number } {
  const index = Math.floor(Math.random() * items.length);
  return { value: items[index]!, index };
}

/**
 * A GET of one random value of `values` per request (`pathOf` writes its path); `check` sees the answer and the
 * value asked for.
 */
function randomGet(
  scenario: Pick<Scenario, 'id' | 'title' | 'auth' | 'connections'>,
  checkEvery: number,
  values: string[],
  pathOf: (value: string) => string,
  check: (body: string, expected: string) => string | undefined,
): Scenario {
  return {
    ...scenario,
    request: {
      method: 'GET',
      checkEvery,
      build: (context) => {
        const { value } = pick(values);
        context.expected = value;
        return { path: pathOf(value) };
      },
      check: (_status, body, context) => check(body, String(context.expected)),
    },
  };
}

export function filteredGet(fixture: Fixture, id: string, title: string, auth: Scenario['auth'], connections: number, checkEvery: number, limit?: number): Scenario {
  const names = limit === undefined ? fixture.userNames : fixture.userNames.slice(0, limit);
  const pathOf = (name: string): string => `${fixture.scimPath}/Users?filter=${encodeURIComponent(`userName eq "${name}"`)}`;
  return randomGet({ id, title, auth, connections }, checkEvery, names, pathOf, (body, expected) => {
    const parsed = parse(body) as { totalResults?: number; Resources?: Array<{ userName?: string; schemas?: string[] }> } | undefined;
    const resource = parsed?.Resources?.[0];
    if (parsed?.totalResults !== 1 || resource?.userName !== expected) return `filter for ${expected} answered ${body.slice(0, 200)}`;
    if (!resource?.schemas?.includes(CORE_USER)) return 'the resource lacks its schemas';
    return undefined;
  });
}

/** GET /Users/:id of a random user of `ids`, checked to be that user. */
export function getById(scimPath: string, ids: string[], id: string, title: string, connections: number, checkEvery: number): Scenario {
  return randomGet({ id, title, auth: 'static', connections }, checkEvery, ids, (user) => `${scimPath}/Users/${user}`, (body, expected) =>
    parse(body)?.id === expected ? undefined : `GET ${expected} answered ${body.slice(0, 200)}`,
  );
}

/** A sign-in resolution answer checked to be `found` with the user expected. */
function checkFound(status: number, body: string, expected: string): string | undefined {
  const parsed = parse(body) as { status?: string; user?: { id?: string } } | undefined;
  if (status !== 200 || parsed?.status !== 'found' || parsed.user?.id !== expected) return `sign-in of ${expected} answered ${status} ${body.slice(0, 200)}`;
  return undefined;
}

/**
 * POST /api/v1/sign-in/resolve by claims: a random seeded user by the claim the bench provider's mapping reads
 * (`sub`, compared to `externalId`), as an application that verified the ID token itself sends it.
 */
export function signInByClaims(fixture: Fixture, signIn: SignInFixture, connections: number, checkEvery: number): Scenario {
  return {
    id: 'signin-claims',
    title: 'POST /api/v1/sign-in/resolve by claims (sub -> externalId)',
    connections,
    auth: 'application',
    request: {
      method: 'POST',
      checkEvery,
      build: (context) => {
        const { value, index } = pick(fixture.userIds);
        context.expected = value;
        return { path: SIGN_IN_PATH, body: JSON.stringify({ providerId: signIn.providerId, claims: { sub: externalIdOf('u', index) } }), headers: { 'content-type': 'application/json' } };
      },
      check: (status, body, context) => checkFound(status, body, String(context.expected)),
    },
  };
}

/**
 * The same with a raw ID token, which the gateway verifies against the provider's JWKS (keys cached). The
 * tokens were minted before the scenario: signing one per request would measure the load generator.
 */
export function signInByIdToken(signIn: SignInFixture, connections: number, checkEvery: number): Scenario {
  return {
    id: 'signin-idtoken',
    title: 'POST /api/v1/sign-in/resolve by ID token (signature checked, keys cached)',
    connections,
    auth: 'application',
    request: {
      method: 'POST',
      checkEvery,
      build: (context) => {
        const { value } = pick(signIn.idTokens);
        context.expected = value.userId;
        return { path: SIGN_IN_PATH, body: JSON.stringify({ providerId: signIn.providerId, idToken: value.token }), headers: { 'content-type': 'application/json' } };
      },
      check: (status, body, context) => checkFound(status, body, String(context.expected)),
    },
  };
}

/** Every scenario of a full run, in the order they run (creations before the PATCH adds that use them). */
export function gatewayScenarios(fixture: Fixture, options: { connections: number; checkEvery: number; bulkSize: number }): Scenario[] {
  const { connections, checkEvery, bulkSize } = options;
  const base = fixture.scimPath;
  const list = (id: string, title: string, path: () => string, expect: (parsed: Json) => string | undefined): Scenario => ({
    id,
    title,
    connections,
    auth: 'static',
    request: {
      method: 'GET',
      checkEvery,
      build: () => ({ path: path() }),
      check: (_status, body) => {
        const parsed = parse(body);
        return parsed ? expect(parsed) : `not JSON: ${body.slice(0, 100)}`;
      },
    },
  });
  const resourcesLength = (parsed: Json): number => (Array.isArray(parsed.Resources) ? parsed.Resources.length : -1);
  const groupWithoutMembers = (id: string, title: string, groupId: string): Scenario =>
    list(id, title, () => `${base}/Groups/${groupId}?excludedAttributes=members`, (parsed) =>
      parsed.id === groupId && parsed.members === undefined ? undefined : `group ${groupId} answered ${JSON.stringify(parsed).slice(0, 200)}`,
    );

  const patchAdd = (conns: number, share: number): Scenario => {
    return {
      id: `patch-add-1000-c${conns}`,
      title: `PATCH add 1,000 members to the big group (${conns} conn)`,
      connections: conns,
      auth: 'static',
      // A share of the pool is fixed when the scenario starts: each request adds 1,000 users who are not members.
      amount: () => Math.max(1, Math.floor(Math.floor(fixture.addPool.length / 1000) * share)),
      request: {
        method: 'PATCH',
        build: () => {
          const ids = fixture.addPool.length >= 1000 ? fixture.addPool.splice(0, 1000) : fixture.addPool.slice(0);
          return { path: `${base}/Groups/${fixture.bigGroupId}`, body: JSON.stringify(patchMembers('add', ids)), headers: { 'content-type': 'application/scim+json' } };
        },
        check: (status) => (status === 204 ? undefined : `PATCH add answered ${status}`),
      },
    };
  };
  const patchRemove = (conns: number, share: number): Scenario => ({
    id: `patch-remove-one-c${conns}`,
    title: `PATCH remove one member of the big group (${conns} conn)`,
    connections: conns,
    auth: 'static',
    // Each request removes a member no earlier request removed; a small smoke run must not run out.
    amount: () => Math.max(1, Math.floor(fixture.removable.length * share)),
    request: {
      method: 'PATCH',
      build: () => {
        const id = fixture.removable.pop();
        if (id === undefined) throw new Error('no member left to remove');
        fixture.removed.push(id);
        return { path: `${base}/Groups/${fixture.bigGroupId}`, body: JSON.stringify(patchMembers('remove', [id])), headers: { 'content-type': 'application/scim+json' } };
      },
      check: (status) => (status === 204 ? undefined : `PATCH remove answered ${status}`),
    },
  });

  // One member at a time, as Entra and Okta add a user assigned to a group: the add that runs as one statement.
  // It puts back members the remove scenarios took out, then takes users of the add pool (a run with --only).
  const patchAddOne = (conns: number, share: number): Scenario => ({
    id: `patch-add-one-c${conns}`,
    title: `PATCH add one member to the big group (${conns} conn)`,
    connections: conns,
    auth: 'static',
    amount: () => Math.max(1, Math.floor((fixture.removed.length + fixture.addPool.length) * share)),
    request: {
      method: 'PATCH',
      build: () => {
        const id = fixture.removed.pop() ?? fixture.addPool.pop();
        if (id === undefined) throw new Error('no user left to add');
        return { path: `${base}/Groups/${fixture.bigGroupId}`, body: JSON.stringify(patchMembers('add', [id])), headers: { 'content-type': 'application/scim+json' } };
      },
      check: (status) => (status === 204 ? undefined : `PATCH add answered ${status}`),
    },
  });

  return [
    filteredGet(fixture, 'filter-static', 'GET /Users?filter=userName eq (static token)', 'static', connections, checkEvery),
    filteredGet(fixture, 'filter-oauth', 'GET /Users?filter=userName eq (OAuth client-credentials token)', 'oauth', connections, checkEvery),
    filteredGet(fixture, 'filter-jwt', 'GET /Users?filter=userName eq (IdP JWT)', 'jwt', connections, checkEvery),
    {
      id: 'discovery',
      title: 'GET /ServiceProviderConfig (no authentication)',
      connections,
      auth: 'none',
      request: {
        method: 'GET',
        checkEvery,
        build: () => ({ path: `${base}/ServiceProviderConfig` }),
        check: (_status, body) => (body.includes('urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig') ? undefined : 'not a ServiceProviderConfig'),
      },
    },
    getById(fixture.scimPath, fixture.userIds, 'get-by-id', 'GET /Users/:id', connections, checkEvery),
    ...(fixture.signIn ? [signInByClaims(fixture, fixture.signIn, connections, checkEvery), signInByIdToken(fixture.signIn, connections, checkEvery)] : []),
    list('page-first', 'GET /Users first page (startIndex=1, count=100)', () => `${base}/Users?startIndex=1&count=100`, (parsed) =>
      resourcesLength(parsed) === 100 && parsed.totalResults === fixture.totalUsers ? undefined : `first page: ${resourcesLength(parsed)} resources, total ${String(parsed.totalResults)}`,
    ),
    list('page-end', 'GET /Users page near the end (startIndex=total-99, count=100)', () => `${base}/Users?startIndex=${fixture.totalUsers - 99}&count=100`, (parsed) =>
      resourcesLength(parsed) === 100 ? undefined : `last page: ${resourcesLength(parsed)} resources`,
    ),
    list('cursor-first', 'GET /Users first page by cursor (cursor=, count=100)', () => `${base}/Users?cursor=&count=100`, (parsed) =>
      resourcesLength(parsed) === 100 && typeof parsed.nextCursor === 'string' ? undefined : `cursor first page: ${resourcesLength(parsed)} resources`,
    ),
    list('cursor-end', 'GET /Users page near the end by cursor (count=100)', () => `${base}/Users?cursor=${encodeURIComponent(fixture.cursorNearEnd)}&count=100`, (parsed) =>
      resourcesLength(parsed) === 100 ? undefined : `cursor near end: ${resourcesLength(parsed)} resources`,
    ),
    groupWithoutMembers('group-big', `GET /Groups/:id?excludedAttributes=members (${fixture.userIds.length.toLocaleString('en-US')} members)`, fixture.bigGroupId),
    groupWithoutMembers('group-small', 'GET /Groups/:id?excludedAttributes=members (1 member)', fixture.smallGroupId),
    {
      id: 'post-user',
      title: 'POST /Users',
      connections,
      auth: 'static',
      request: {
        method: 'POST',
        build: () => ({ path: `${base}/Users`, body: JSON.stringify(userBody(fixture.created.series, fixture.created.next++)), headers: { 'content-type': 'application/scim+json' } }),
        check: (status, body) => {
          const id = parse(body)?.id;
          if (status !== 201 || typeof id !== 'string') return `POST /Users answered ${status} ${body.slice(0, 200)}`;
          fixture.addPool.push(id);
          return undefined;
        },
      },
    },
    {
      id: 'bulk-1000',
      title: `POST /Bulk with ${bulkSize.toLocaleString('en-US')} user creates`,
      connections,
      auth: 'static',
      request: {
        method: 'POST',
        build: () => {
          const from = fixture.created.next;
          fixture.created.next += bulkSize;
          return { path: `${base}/Bulk`, body: JSON.stringify(bulkUsersBody(fixture.created.series, from, from + bulkSize)), headers: { 'content-type': 'application/scim+json' } };
        },
        check: (_status, body) => {
          const operations = (parse(body) as { Operations?: Array<{ status?: string; location?: string }> } | undefined)?.Operations ?? [];
          const created = operations.filter((operation) => operation.status === '201' && operation.location);
          if (created.length !== bulkSize) return `/Bulk created ${created.length} of ${bulkSize}`;
          for (const operation of created) fixture.addPool.push(operation.location!.slice(operation.location!.lastIndexOf('/') + 1));
          return undefined;
        },
      },
    },
    patchAdd(connections, 0.5),
    patchAdd(1, 1),
    patchRemove(connections, 0.5),
    patchRemove(1, 1),
    patchAddOne(connections, 0.5),
    patchAddOne(1, 1),
  ];
}
