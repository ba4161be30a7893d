import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@roster/db/testing';
import { createLogger } from '../logger.js';
import { requestContext } from './request-context.js';
import { scimErrors } from './scim-errors.js';

// What the SCIM error middleware answers for database errors a request can meet through no fault of the
// server: real errors from the test database where one can be provoked, PostgreSQL's SQLSTATE otherwise.
describe('scimErrors and database errors', () => {
  let db: TestDatabase;
  let server: http.Server;
  let url: string;
  let fail: () => Promise<never>;

  beforeAll(async () => {
    db = await createTestDatabase();
    const app = new Koa();
    app.silent = true;
    app.use(requestContext(createLogger('silent')));
    app.use(scimErrors());
    app.use(async () => {
      await fail();
    });
    server = http.createServer(app.callback()).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await db?.destroy();
  });

  it('a membership of a user deleted meanwhile is 400 invalidValue, not 500', async () => {
    const [group] = (await db.knex('groups').insert({ display_name: 'g', data: '{}' }).returning('id')) as Array<{ id: string }>;
    fail = async () => {
      // A user id that passed the existence check and was deleted before the insert.
      await db.knex.raw('INSERT INTO group_members (group_id, user_id) VALUES (?, ?)', [group!.id, '00000000-0000-4000-8000-000000000001']);
      throw new Error('the insert should have failed');
    };
    const response = await fetch(url);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ status: '400', scimType: 'invalidValue', detail: expect.stringContaining('no longer exists') });
  });

  it.each(['40P01', '40001'])('a transaction the database rolled back to resolve a conflict (%s) is 503 with Retry-After', async (code) => {
    fail = async () => {
      throw Object.assign(new Error('deadlock detected'), { code });
    };
    const response = await fetch(url);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await response.json()).toMatchObject({ status: '503', detail: expect.stringContaining('send it again') });
  });

  it('any other database error stays a 500 that leaks nothing', async () => {
    fail = async () => {
      throw Object.assign(new Error('relation "secret_table" does not exist'), { code: '42P01' });
    };
    const response = await fetch(url);
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain('secret_table');
  });
});
