import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { securityHeaders } from './middleware/security-headers.js';
import { serveAdminApp } from './admin-static.js';

describe('serveAdminApp', () => {
  let server: http.Server;
  let base: string;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-admin-static-'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>admin</title>');
    const app = new Koa();
    app.silent = true;
    app.use(securityHeaders());
    app.use(serveAdminApp(dir));
    server = http.createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each(['/admin/%', '/admin/%E0%A4%A'])('answers %s with 400 and keeps the security headers', async (pathname) => {
    const response = await fetch(`${base}${pathname}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await response.text()).toBe('Bad request: the path is not valid percent-encoded UTF-8.');
  });

  it('still answers a deep link with index.html', async () => {
    const response = await fetch(`${base}/admin/clients/123`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<title>admin</title>');
  });
});
