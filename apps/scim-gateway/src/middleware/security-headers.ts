import type { Middleware } from 'koa';

// Every response: no MIME sniffing, no framing, no referrer leaks. The admin SPA additionally gets a strict
// Content-Security-Policy (only its own scripts and styles; no inline script; API calls to itself).
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function securityHeaders(): Middleware {
  return async (ctx, next) => {
    await next();
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    if (ctx.path === '/admin' || ctx.path.startsWith('/admin/')) {
      ctx.set('Content-Security-Policy', CSP);
      ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    }
  };
}
