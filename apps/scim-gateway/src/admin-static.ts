import fs from 'node:fs';
import path from 'node:path';
import type { Middleware } from 'koa';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

/**
 * Serves the built admin SPA under /admin. Files with a content hash (assets/) are cached for a year; any
 * other path under /admin answers index.html so the SPA's router handles deep links.
 */
export function serveAdminApp(distDir: string): Middleware {
  const root = path.resolve(distDir);
  return async (ctx, next) => {
    if (ctx.path === '/' && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      ctx.redirect('/admin/');
      return;
    }
    if (ctx.path === '/admin') {
      ctx.redirect('/admin/');
      return;
    }
    if (!ctx.path.startsWith('/admin/') || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    let relative: string;
    try {
      relative = decodeURIComponent(ctx.path.slice('/admin/'.length));
    } catch {
      // A malformed percent-escape (`/admin/%`, a cut UTF-8 sequence) is the client's error: answered here,
      // so the security headers set before this middleware stay on the response (a thrown error loses them).
      ctx.status = 400;
      ctx.type = 'text/plain';
      ctx.body = 'Bad request: the path is not valid percent-encoded UTF-8.';
      return;
    }
    let file = path.resolve(root, relative);
    if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      file = path.join(root, 'index.html');
    }
    if (!fs.existsSync(file)) {
      ctx.status = 503;
      ctx.type = 'text/plain';
      ctx.body = 'The admin app is not built. Run `pnpm build` (pnpm start does it for you).';
      return;
    }
    ctx.type = TYPES[path.extname(file)] ?? 'application/octet-stream';
    ctx.set('Cache-Control', relative.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    ctx.body = fs.createReadStream(file);
  };
}
