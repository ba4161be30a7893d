// Fixtures and seeding through the product's own API: users and groups by /Bulk (1,000 operations a request,
// the advertised maximum), the big group by PATCH add in slices. Every step checks what it got back.

export const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

const GIVEN = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Margaret', 'Dennis', 'Radia', 'Tim'];
const FAMILY = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Hamilton', 'Ritchie', 'Perlman', 'Berners-Lee'];
const DEPARTMENTS = ['Engineering', 'Sales', 'Finance', 'Support', 'Legal', 'Marketing', 'Operations'];

/** userName of the i-th user of a series (`u` seeded, `pool` for PATCH adds, others made by scenarios). */
export function userNameOf(series: string, i: number): string {
  return `${series}${String(i).padStart(6, '0')}@bench.example.com`;
}

/** externalId of the i-th user of a series: what the bench provider's identity mapping (`sub` -> `externalId`) reads. */
export function externalIdOf(series: string, i: number): string {
  return `ext-${series}-${i}`;
}

/** A realistic user: names, two emails, phone, title and the enterprise extension (RFC 7643 §4.1, §4.3). */
export function userBody(series: string, i: number): Record<string, unknown> {
  const given = GIVEN[i % GIVEN.length]!;
  const family = FAMILY[Math.floor(i / GIVEN.length) % FAMILY.length]!;
  const userName = userNameOf(series, i);
  return {
    schemas: [CORE_USER, ENTERPRISE_USER],
    userName,
    externalId: externalIdOf(series, i),
    name: { givenName: given, familyName: family, formatted: `${given} ${family}` },
    displayName: `${given} ${family} ${i}`,
    emails: [
      { value: userName, type: 'work', primary: true },
      { value: `${series}${i}@home.example.org`, type: 'home' },
    ],
    phoneNumbers: [{ value: `+1 555 ${String(i % 10_000).padStart(4, '0')}`, type: 'work' }],
    title: 'Engineer',
    active: true,
    [ENTERPRISE_USER]: {
      employeeNumber: String(100_000 + i),
      costCenter: `CC-${i % 97}`,
      organization: 'Bench Corp',
      division: 'R&D',
      department: DEPARTMENTS[i % DEPARTMENTS.length],
    },
  };
}

export function bulkUsersBody(series: string, from: number, to: number): Record<string, unknown> {
  const Operations = [];
  for (let i = from; i < to; i += 1) Operations.push({ method: 'POST', bulkId: `${series}${i}`, path: '/Users', data: userBody(series, i) });
  return { schemas: [BULK_REQUEST], Operations };
}

export function patchMembers(op: 'add' | 'remove', ids: string[]): Record<string, unknown> {
  if (op === 'remove') {
    // RFC 7644 §3.5.2.2: a remove with a value filter in the path, the form Entra ID sends.
    return { schemas: [PATCH_OP], Operations: ids.map((id) => ({ op: 'remove', path: `members[value eq "${id}"]` })) };
  }
  return { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: ids.map((value) => ({ value })) }] };
}

export interface ScimHttp {
  scimUrl: string;
  token: string;
  request(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown; ms: number }>;
}

export function scimHttp(scimUrl: string, token: string, signal?: AbortSignal): ScimHttp {
  return {
    scimUrl,
    token,
    async request(method, path, body) {
      const started = performance.now();
      let response: Response;
      try {
        response = await fetch(`${scimUrl}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }) },
          body: body === undefined ? null : JSON.stringify(body),
          signal: signal ?? null,
        });
      } catch (error) {
        const cause = (error as { cause?: { message?: string; code?: string } }).cause;
        throw new Error(`${method} ${path} after ${Math.round(performance.now() - started)} ms: ${(error as Error).message}${cause ? ` (${cause.code ?? ''} ${cause.message ?? ''})` : ''}`, { cause: error });
      }
      const text = await response.text();
      const ms = performance.now() - started;
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = text;
      }
      return { status: response.status, body: parsed, ms };
    },
  };
}

export async function expectStatus(
  http: ScimHttp,
  method: string,
  path: string,
  body: unknown,
  status: number,
): Promise<{ body: unknown; ms: number }> {
  const response = await http.request(method, path, body);
  if (response.status !== status) {
    throw new Error(`${method} ${path}: expected ${status}, got ${response.status}: ${JSON.stringify(response.body).slice(0, 500)}`);
  }
  return response;
}

/** The ids of the users a /Bulk of POSTs created, in request order; throws on any failed operation. */
export function idsFromBulkResponse(body: unknown, expected: number): string[] {
  const operations = (body as { Operations?: Array<{ status: string; location?: string; response?: unknown }> }).Operations ?? [];
  if (operations.length !== expected) throw new Error(`/Bulk answered ${operations.length} operations, expected ${expected}`);
  return operations.map((operation, index) => {
    if (operation.status !== '201' || !operation.location) {
      throw new Error(`/Bulk operation ${index + 1}: status ${operation.status}: ${JSON.stringify(operation.response).slice(0, 300)}`);
    }
    return operation.location.slice(operation.location.lastIndexOf('/') + 1);
  });
}

export interface SeedRate {
  what: string;
  count: number;
  seconds: number;
  perSecond: number;
}

/**
 * Creates users [from, to) of a series through /Bulk, `concurrency` requests in flight. Returns their ids in
 * order and the rate.
 */
export async function seedUsers(http: ScimHttp, series: string, from: number, to: number, options: { batch?: number; concurrency?: number } = {}): Promise<{ ids: string[]; rate: SeedRate }> {
  const batch = options.batch ?? 1000;
  const concurrency = options.concurrency ?? 2;
  const ids = new Array<string>(to - from);
  const started = performance.now();
  let next = from;
  async function worker(): Promise<void> {
    while (next < to) {
      const start = next;
      const end = Math.min(start + batch, to);
      next = end;
      const { body } = await expectStatus(http, 'POST', '/Bulk', bulkUsersBody(series, start, end), 200);
      idsFromBulkResponse(body, end - start).forEach((id, k) => (ids[start - from + k] = id));
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  return { ids, rate: { what: `users by /Bulk (${batch} per request, ${concurrency} in flight)`, count: to - from, seconds, perSecond: (to - from) / seconds } };
}

/** Groups by /Bulk: group 0 has one member, the others ten each. Returns their ids. */
export async function seedGroups(http: ScimHttp, count: number, userIds: string[]): Promise<{ ids: string[]; rate: SeedRate }> {
  const started = performance.now();
  const ids: string[] = [];
  for (let from = 0; from < count; from += 1000) {
    const to = Math.min(from + 1000, count);
    const Operations = [];
    for (let g = from; g < to; g += 1) {
      const size = g === 0 ? 1 : Math.min(10, userIds.length);
      const members = Array.from({ length: size }, (_, k) => ({ value: userIds[(g * 10 + k) % userIds.length]! }));
      Operations.push({ method: 'POST', bulkId: `g${g}`, path: '/Groups', data: { schemas: [CORE_GROUP], displayName: `bench-group-${String(g).padStart(4, '0')}`, externalId: `ext-g-${g}`, members } });
    }
    const { body } = await expectStatus(http, 'POST', '/Bulk', { schemas: [BULK_REQUEST], Operations }, 200);
    for (const id of idsFromBulkResponse(body, to - from)) ids.push(id);
  }
  const seconds = (performance.now() - started) / 1000;
  return { ids, rate: { what: 'groups by /Bulk (1 or 10 members each)', count, seconds, perSecond: count / seconds } };
}

export const BIG_GROUP_SLICE = 10_000;

/**
 * One group that will hold every seeded user: created with the first users, filled with the others later
 * (`addToBigGroup`), so that the users of the small-scale measurement belong to a group as the others do.
 */
export async function createBigGroup(http: ScimHttp, userIds: string[]): Promise<{ id: string; seconds: number }> {
  const started = performance.now();
  const created = await expectStatus(http, 'POST', '/Groups', { schemas: [CORE_GROUP], displayName: 'bench-everyone' }, 201);
  const id = (created.body as { id: string }).id;
  await addToBigGroup(http, id, userIds);
  return { id, seconds: (performance.now() - started) / 1000 };
}

/** PATCH add of these users to the big group in slices of `slice` members. */
export async function addToBigGroup(http: ScimHttp, id: string, userIds: string[], slice = BIG_GROUP_SLICE): Promise<{ seconds: number }> {
  const started = performance.now();
  for (let from = 0; from < userIds.length; from += slice) {
    await expectStatus(http, 'PATCH', `/Groups/${id}`, patchMembers('add', userIds.slice(from, from + slice)), 204);
  }
  return { seconds: (performance.now() - started) / 1000 };
}
