import { BlockList, isIP } from 'node:net';
import type { Middleware } from 'koa';

// The client's address, as the throttles of /oauth/token and admin sign-in key on it. Behind a load balancer
// every request comes from the balancer; `ROSTER_TRUSTED_PROXIES` names those hops (CIDR), and only a request
// arriving from one of them has its X-Forwarded-For read. The header is walked from the right (the hop
// nearest to us) and the first address that is not a trusted proxy is the client: entries further left were
// written by the client itself and can be anything (RFC 7239 §7.4 on the same weakness of `Forwarded`).
// Koa's own `proxy: true` would take the leftmost entry, which any client can forge; Koa stays `proxy: false`.

export interface TrustedProxies {
  /** The CIDR list as configured, for messages. */
  readonly cidrs: readonly string[];
  contains(address: string): boolean;
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is 10.0.0.1. */
function plainAddress(address: string): string {
  const trimmed = address.trim();
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(trimmed) ? trimmed.slice(7) : trimmed;
}

/** Parses `10.0.0.0/8, 192.168.1.7, fd00::/8`; throws an Error naming the first bad entry. */
export function parseTrustedProxies(text: string): TrustedProxies {
  const list = new BlockList();
  const cidrs: string[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const [address = '', prefixText, ...rest] = entry.split('/');
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
    if (family === 0 || rest.length > 0 || !(prefix >= 0 && prefix <= max)) throw new Error(`"${entry}" is not an IP address or CIDR range`);
    list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    cidrs.push(entry);
  }
  return {
    cidrs,
    contains(address: string): boolean {
      const plain = plainAddress(address);
      const family = isIP(plain);
      return family !== 0 && list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/** The client address of a request from `peer` carrying `forwardedFor` (X-Forwarded-For), given the trusted hops. */
export function resolveClientAddress(peer: string, forwardedFor: string | undefined, trusted: TrustedProxies | undefined): string {
  const direct = plainAddress(peer);
  if (!trusted || !forwardedFor || !trusted.contains(direct)) return direct;
  const hops = forwardedFor.split(',').map(plainAddress);
  for (let index = hops.length - 1; index >= 0; index--) {
    const hop = hops[index]!;
    // A malformed entry is where trust ends: what lies left of it cannot be told from forgery either.
    if (isIP(hop) === 0) return index === hops.length - 1 ? direct : hops[index + 1]!;
    if (!trusted.contains(hop)) return hop;
  }
  // Every hop is a trusted proxy: the leftmost is the nearest thing to a client there is.
  return hops[0]!;
}

/** Sets `ctx.ip` from the socket and, on requests from a trusted proxy only, from X-Forwarded-For. */
export function clientAddress(trusted: TrustedProxies): Middleware {
  return (ctx, next) => {
    ctx.request.ip = resolveClientAddress(ctx.req.socket.remoteAddress ?? '', ctx.get('x-forwarded-for') || undefined, trusted);
    return next();
  };
}
