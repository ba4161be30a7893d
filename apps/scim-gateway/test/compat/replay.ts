// Replays a recorded identity-provider conversation (a JSON fixture beside the tests) against a test gateway
// and checks every response: status, the headers the fixture names, and the body, exactly.
//
// Fixture format (see keycloak.json, entra.json, okta.json):
//   { "source": "where these shapes come from", "scenarios": [{ "name", "steps": [Step, ...] }] }
//   Step: {
//     "note": what the client is doing,
//     "request": { "method", "path" (after /scim_v2, sent as written: "//Users" stays doubled),
//                  "headers"?: {...}, "body"?: JSON, "contentType"?: string | null (null: send no Content-Type) },
//     "repeat"?: n (send the request n times with {{i}} = 1..n; only the last response is checked),
//     "expect": { "status", "headers"?: { name: value | null (absent) }, "body"?: exact JSON, "bodyMatches"?: subset JSON },
//     "save"?: { "variable": "dotted.path.in.the.response.body" }
//   }
// Strings may hold {{variable}} (saved earlier, or `base` = the gateway's SCIM base URL, `i` in a repeat).
// In expected bodies "{{ANY_DATETIME}}" and "{{ANY_UUID}}" match any such value; a string that is exactly
// "{{variable}}" stands for the saved value whatever its JSON type. REPLAY_PRINT=1 prints every response.
import { expect } from 'vitest';
import type { TestGateway } from '../support/gateway.js';
import { request as sendRequest, type HttpResponse } from '../support/http.js';

export interface ReplayStep {
  note: string;
  request: { method: string; path: string; headers?: Record<string, string>; body?: unknown; contentType?: string | null };
  repeat?: number;
  expect: { status: number; headers?: Record<string, string | null>; body?: unknown; bodyMatches?: unknown };
  save?: Record<string, string>;
}

export interface ReplayScenario {
  name: string;
  steps: ReplayStep[];
}

export interface ReplayFixture {
  source: string;
  scenarios: ReplayScenario[];
}

export type ReplayResponse = HttpResponse;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function pathValue(value: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((current, key) => {
    if (current === null || typeof current !== 'object') return undefined;
    return (current as Record<string, unknown>)[key];
  }, value);
}

/** Substitutes {{variables}} in every string of a JSON value (an exact "{{x}}" takes the saved value's type). */
export function substitute(value: unknown, vars: Record<string, unknown>, matchers = false): unknown {
  if (typeof value === 'string') {
    if (matchers && value === '{{ANY_UUID}}') return expect.stringMatching(UUID);
    if (matchers && value === '{{ANY_DATETIME}}') return expect.stringMatching(DATETIME);
    const whole = /^\{\{(\w+)\}\}$/.exec(value);
    if (whole && whole[1]! in vars) return vars[whole[1]!];
    return value.replace(/\{\{(\w+)\}\}/g, (match, name: string) => (name in vars ? String(vars[name]) : match));
  }
  if (Array.isArray(value)) return value.map((element) => substitute(element, vars, matchers));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, substitute(inner, vars, matchers)]));
  }
  return value;
}

/** Sends one request as the identity provider would: its own method, path, headers and Content-Type. */
export async function send(gw: TestGateway, request: ReplayStep['request'], vars: Record<string, unknown>): Promise<ReplayResponse> {
  const headers: Record<string, string> = { authorization: `Bearer ${gw.token}`, ...(substitute(request.headers ?? {}, vars) as Record<string, string>) };
  let body: string | Blob | undefined;
  if (request.body !== undefined) {
    const json = JSON.stringify(substitute(request.body, vars));
    if (request.contentType === null) {
      // A Blob without a type makes fetch send no Content-Type at all (Okta's own test does this).
      body = new Blob([json]);
    } else {
      headers['content-type'] = request.contentType ?? 'application/scim+json';
      body = json;
    }
  }
  // Sent as written after the host: `//Users` must reach the server doubled, as Keycloak's plugin sends it.
  const url = `${gw.url}/scim_v2${substitute(request.path, vars) as string}`;
  return sendRequest(url, { method: request.method, headers, body });
}

/** Replays a scenario in order; every assertion names the step. Returns the variables it saved. */
export async function replay(gw: TestGateway, scenario: ReplayScenario, initial: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const vars: Record<string, unknown> = { base: gw.scimUrl, ...initial };
  for (const [index, step] of scenario.steps.entries()) {
    const label = `${scenario.name}, step ${index + 1} (${step.note}): ${step.request.method} ${step.request.path}`;
    let response: ReplayResponse | undefined;
    for (let i = 1; i <= (step.repeat ?? 1); i++) response = await send(gw, step.request, { ...vars, i });
    const got = response!;
    if (process.env.REPLAY_PRINT) console.log(`${label}\n${got.status} ${got.text}`);
    expect(got.status, `${label}\n${got.text}`).toBe(step.expect.status);
    for (const [name, value] of Object.entries(step.save ?? {})) vars[name] = pathValue(got.body, value);
    if (got.text !== '') expect(got.headers.get('content-type'), label).toBe('application/scim+json; charset=utf-8');
    for (const [name, value] of Object.entries(step.expect.headers ?? {})) {
      expect(got.headers.get(name), `${label}: header ${name}`).toBe(value === null ? null : substitute(value, vars));
    }
    if ('body' in step.expect) {
      if (step.expect.body === null) expect(got.text, `${label}: no body`).toBe('');
      else expect(got.body, label).toEqual(substitute(step.expect.body, vars, true));
    }
    if (step.expect.bodyMatches !== undefined) expect(got.body, label).toMatchObject(substitute(step.expect.bodyMatches, vars, true) as object);
  }
  return vars;
}
