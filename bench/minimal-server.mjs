// The ceiling reference: the least any Node + Koa + pg gateway must do to answer
// GET /scim_v2/Users?filter=userName eq "x" (one indexed query, a minimal SCIM ListResponse, no authentication).
// Started by the harness as its own process: PORT, DATABASE_URL, and POOL_MAX (default 10).
import Koa from 'koa';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_MAX ?? 10) });
const FILTER = /^userName eq "((?:[^"\\]|\\.)*)"$/i;
const SQL = 'SELECT id, user_name, data, version, created_at, updated_at FROM users WHERE lower(user_name) = lower($1)';
const base = `http://127.0.0.1:${process.env.PORT}/scim_v2`;

const app = new Koa();
app.use(async (ctx) => {
  if (ctx.path === '/readyz') return void (ctx.body = { status: 'ready' });
  const match = ctx.path === '/scim_v2/Users' ? FILTER.exec(String(ctx.query.filter ?? '')) : null;
  if (!match) return void (ctx.status = 404);
  const { rows } = await pool.query(SQL, [JSON.parse(`"${match[1]}"`)]);
  const Resources = rows.map((row) => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    id: row.id,
    ...row.data,
    userName: row.user_name,
    meta: {
      resourceType: 'User',
      created: row.created_at.toISOString(),
      lastModified: row.updated_at.toISOString(),
      location: `${base}/Users/${row.id}`,
      version: `W/"${row.version}"`,
    },
  }));
  ctx.type = 'application/scim+json; charset=utf-8';
  ctx.body = JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: rows.length, itemsPerPage: rows.length, startIndex: 1, Resources });
});

const server = app.listen(Number(process.env.PORT), '127.0.0.1');
const stop = () => {
  server.close(() => void pool.end().then(() => process.exit(0)));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
