import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { replay, type ReplayFixture } from './replay.js';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/okta.json', import.meta.url), 'utf8')) as ReplayFixture;
const scenario = (name: string) => fixture.scenarios.find((candidate) => candidate.name === name)!;

let gw: TestGateway;
let vars: Record<string, unknown> = {};
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => gw?.close());

// The scenarios run in order on one gateway: the PATCH mode adds the PUT mode's user to a group, and the
// paging import counts every user created before it.
describe('Okta (recorded requests: fixtures/okta.json)', () => {
  it('replays "Okta PUT mode" and gets the expected answer to every request', async () => {
    vars = await replay(gw, scenario('Okta PUT mode'));
  });

  it('replays "Okta PATCH mode" and gets the expected answer to every request', async () => {
    vars = await replay(gw, scenario('Okta PATCH mode'), { isaacId: vars.isaacId });
  });

  it('imports 150 users in pages of 100 without skipping or repeating one', async () => {
    const saved = await replay(gw, scenario('Okta import paging'));
    const ids = [...(saved.page1 as Array<{ id: string }>), ...(saved.page2 as Array<{ id: string }>)].map((user) => user.id);
    expect(ids).toHaveLength(150);
    expect(new Set(ids).size).toBe(150);
    const all = await gw.db.knex('users').select('id');
    expect(new Set(ids)).toEqual(new Set(all.map((row: { id: string }) => row.id)));
  });
});
