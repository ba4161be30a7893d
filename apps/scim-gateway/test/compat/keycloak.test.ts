import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { replay, type ReplayFixture } from './replay.js';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/keycloak.json', import.meta.url), 'utf8')) as ReplayFixture;

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => gw?.close());

describe('Keycloak SCIM plugin (recorded requests: fixtures/keycloak.json)', () => {
  for (const scenario of fixture.scenarios) {
    it(`replays "${scenario.name}" and gets the expected answer to every request`, async () => {
      await replay(gw, scenario);
    });
  }
});
