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

// Set before the request is handled (they depend on nothing it does), so this layer adds no await to every
// request. An error that reaches Koa's own handler clears them, as it did when they were set afterwards.
const EVERY_RESPONSE = { 'X-Content-Type-Options': 'nosniff', 'X-Frame-Options': 'DENY', 'Referrer-Policy': 'no-referrer' };
const ADMIN_APP = { ...EVERY_RESPONSE, 'Content-Security-Policy': CSP, 'Cross-Origin-Opener-Policy': 'same-origin' };

export function securityHeaders(): Middleware {
  return (ctx, next) => {
    ctx.set(ctx.path === '/admin' || ctx.path.startsWith('/admin/') ? ADMIN_APP : EVERY_RESPONSE);
    return next();
  };
}
