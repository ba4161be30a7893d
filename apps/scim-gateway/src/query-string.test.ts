import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { parseQueryString, useFastQueryParser } from './query-string.js';

const CASES = [
  '',
  'a',
  'a=',
  '=a',
  '&',
  '&&a=1&&',
  'a=1&a=2&a=3',
  'a=1&b=2&a=3',
  'a=b=c',
  '+',
  'a+b=c+d',
  'a%2Bb=c%2Bd',
  'filter=userName%20eq%20%22bjensen%40example.com%22',
  'filter=userName+eq+%22a+b%22&startIndex=1&count=10',
  'attributes=userName,emails&excludedAttributes=groups',
  '%20=%20',
  '%zz=1',
  'a=%zz',
  'a=%',
  'a=%2',
  'a=%E2%82%AC',
  'a=%e2%82%ac',
  'a=%ED%A0%80',
  'a=%C0%AF',
  'a=%FF',
  'a=%E2%82',
  'ü=ö',
  'a=%26b%3Dc',
  '__proto__=x',
  '__proto__=x&__proto__=y',
  '__proto__[a]=1',
  'constructor=1&toString=2&toString=3',
  'hasOwnProperty=1',
  '%5F_proto__=z',
  'access_token=x&ACCESS_TOKEN=y',
];

/** Koa's own `ctx.query` and ours, each from a real Koa app answering the same request. */
async function both(querystring: string): Promise<[unknown, unknown]> {
  const answers: unknown[] = [];
  for (const fast of [false, true]) {
    const app = new Koa();
    if (fast) useFastQueryParser(app);
    const ctx = app.createContext({ url: `/scim_v2/Users?${querystring}`, headers: {}, method: 'GET', socket: {} } as never, {} as never);
    const query = ctx.query;
    // The same object on a second read, as Koa caches it per request.
    expect(ctx.query).toBe(query);
    answers.push({ prototype: Object.getPrototypeOf(query), entries: Object.entries(query), own: Object.getOwnPropertyNames(query) });
  }
  return answers as [unknown, unknown];
}

describe('the query string parser', () => {
  it('answers exactly what Koa answers: values, arrays, order, own properties and prototype', async () => {
    for (const text of CASES) {
      const [koa, ours] = await both(text);
      expect(ours, text).toEqual(koa);
    }
  });

  it('parses a SCIM list request in one pass, and hands what decodeURIComponent refuses to the fallback', () => {
    expect(parseQueryString('filter=userName+eq+%22a%22&count=2&count=3', () => ({ fallback: 'used' }))).toEqual({ filter: 'userName eq "a"', count: ['2', '3'] });
    expect(parseQueryString('a=%zz', () => ({ fallback: 'used' }))).toEqual({ fallback: 'used' });
  });

  it('reads the query string again after ctx.querystring changes', () => {
    const app = new Koa();
    useFastQueryParser(app);
    const ctx = app.createContext({ url: '/x?a=1', headers: {}, method: 'GET', socket: {} } as never, {} as never);
    expect(ctx.query).toEqual({ a: '1' });
    ctx.querystring = 'b=2';
    expect(ctx.query).toEqual({ b: '2' });
    ctx.query = { c: ['3', '4'] };
    expect(ctx.querystring).toBe('c=3&c=4');
    expect(ctx.query).toEqual({ c: ['3', '4'] });
  });
});
