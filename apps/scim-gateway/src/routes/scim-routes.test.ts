import { describe, expect, it } from 'vitest';
import { ScimRoutes, type ScimContext } from './scim-routes.js';

function table(): { routes: ScimRoutes; ran: string[] } {
  const ran: string[] = [];
  const routes = new ScimRoutes();
  const named = (name: string) => () => void ran.push(name);
  routes.on('GET', '/Users', named('list'));
  routes.on('POST', '/Users', named('create'));
  routes.on('GET', '/Users/:id', named('get'));
  routes.on('DELETE', '/Users/:id', named('delete'));
  routes.on('POST', '/Users/.search', named('search'));
  routes.on('GET', '/Users/.fixed', named('fixed'));
  routes.on('*', '/Me', named('me'));
  routes.on('*', '/Me/*rest', named('me-rest'));
  routes.on('POST', '/Bulk', async (_ctx, next) => {
    ran.push('gate');
    await next();
  }, named('bulk'));
  return { routes, ran };
}

describe('ScimRoutes', () => {
  it('matches endpoint names in any case and keeps the template of the route', () => {
    const { routes } = table();
    expect(routes.match('/users', 'GET').route?.template).toBe('/Users');
    expect(routes.match('/USERS', 'POST').route?.template).toBe('/Users');
    expect(routes.match('/uSeRs/.SEARCH', 'POST').route?.template).toBe('/Users/.search');
  });

  it('takes a fixed segment before a parameter: /Users/.search is not a user id', () => {
    const { routes } = table();
    expect(routes.match('/Users/.fixed', 'GET').route?.template).toBe('/Users/.fixed');
    expect(routes.match('/Users/.search', 'GET').route?.template).toBe('/Users/:id');
    expect(routes.match('/Users/.search', 'POST').route?.template).toBe('/Users/.search');
    expect(routes.match('/Users/abc', 'POST').route).toBeUndefined();
  });

  it('decodes parameters, and passes on invalid percent-encoding as sent', () => {
    const { routes } = table();
    expect(routes.match('/Users/a%20b%2Fc', 'GET').params).toEqual({ id: 'a b/c' });
    expect(routes.match('/Users/%2G', 'GET').params).toEqual({ id: '%2G' });
    expect(routes.match('/Users/Ünïcode', 'GET').params).toEqual({ id: 'Ünïcode' });
  });

  it('serves HEAD with the GET route and lists the methods a path takes', () => {
    const { routes } = table();
    const head = routes.match('/Users/42', 'HEAD');
    expect(head.route?.template).toBe('/Users/:id');
    const put = routes.match('/Users/42', 'PUT');
    expect(put.route).toBeUndefined();
    expect(put.template).toBe('/Users/:id');
    expect(put.allowed).toEqual(['GET', 'HEAD', 'DELETE']);
  });

  it('matches no more and no fewer segments than the route has, except a final *rest', () => {
    const { routes } = table();
    expect(routes.match('/Users/42/extra', 'GET')).toEqual({ allowed: [], params: {} });
    expect(routes.match('/Nope', 'GET')).toEqual({ allowed: [], params: {} });
    expect(routes.match('/', 'GET')).toEqual({ allowed: [], params: {} });
    expect(routes.match('/Me', 'PATCH').route?.template).toBe('/Me');
    const rest = routes.match('/me/a/b%20c', 'DELETE');
    expect(rest.route?.template).toBe('/Me/*rest');
    expect(rest.params).toEqual({ rest: 'a/b c' });
  });

  it('runs a route middleware chain in order, composed once', async () => {
    const { routes, ran } = table();
    const ctx = {} as ScimContext;
    await routes.match('/Bulk', 'POST').route!.run(ctx);
    await routes.match('/Bulk', 'POST').route!.run(ctx);
    expect(ran).toEqual(['gate', 'bulk', 'gate', 'bulk']);
  });

  it('refuses templates it could not match', () => {
    const routes = new ScimRoutes();
    expect(() => routes.on('GET', 'Users', () => {})).toThrow(/starts with \//);
    expect(() => routes.on('GET', '/:id', () => {})).toThrow(/fixed segment/);
    expect(() => routes.on('GET', '/A/*rest/b', () => {})).toThrow(/last segment/);
  });
});
