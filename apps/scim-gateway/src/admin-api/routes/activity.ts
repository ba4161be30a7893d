import { Readable } from 'node:stream';
import { READ_KINDS, type AuditEvent } from '@roster/domain';
import { ApiError } from '../errors.js';
import { route, type AdminRoute } from '../define.js';
import { array, dateTime, integer, nullable, object, oneOf, queryDate, queryEnum, queryString, string, unknownValue } from '../schema.js';
import { pageOf, pageQueryShape, uuid, type RouteDeps } from './common.js';

export const activityEventSchema = object({
  id: integer(),
  at: dateTime(),
  actorType: oneOf(['scim_client', 'admin', 'system', 'application']),
  clientId: nullable(uuid()),
  clientName: nullable(string()),
  adminId: nullable(uuid()),
  adminEmail: nullable(string({ description: 'The admin who made the change (admin events)' })),
  operation: string({ description: 'e.g. scim.user.create, admin.scim_client.create' }),
  resourceType: nullable(string()),
  resourceId: nullable(string()),
  resourceName: nullable(string({ description: "The user's userName or the group's displayName, when it still exists" })),
  status: nullable(integer({ description: 'HTTP status of the request' })),
  durationMs: nullable(integer()),
  requestId: nullable(string()),
  detail: unknownValue({ description: 'Non-secret detail: an error message, changed fields' }),
});

const filterShape = {
  clientId: queryString({ format: 'uuid', description: 'Only events of this SCIM client' }),
  status: queryEnum(['error', 'success'], { description: 'error: status >= 400; success: below 400' }),
  from: queryDate({ description: 'Events at or after this time' }),
  to: queryDate({ description: 'Events before this time' }),
  q: queryString({ description: 'Searches operation, resource id and request id' }),
};

/** The most rows one CSV export holds; narrow the filters for more. */
export const CSV_MAX_ROWS = 100_000;

const CSV_COLUMNS = ['at', 'actorType', 'clientId', 'clientName', 'adminId', 'adminEmail', 'operation', 'resourceType', 'resourceId', 'status', 'durationMs', 'requestId', 'detail'] as const;

const FORMULA_START = /^(?:[\t\r]|[\s\u3000]*[=+\-@|\uFF1D\uFF0B\uFF0D\uFF20\uFF5C])/;

/**
 * One CSV cell (RFC 4180: quoted when it holds a quote, comma or line break; quotes doubled). A text cell
 * that a spreadsheet would read as a formula (= + - @ |, or a leading tab or CR) gets a leading apostrophe:
 * resource ids and error messages come from SCIM clients and must not run as formulas in an admin's Excel.
 * Spreadsheets skip leading spaces before a formula and read the full-width forms (＝ ＋ － ＠ ｜) as their
 * ASCII twins, and `|` starts a DDE call in some of them, so those count too.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  let text = value instanceof Date ? value.toISOString() : typeof value === 'string' ? value : JSON.stringify(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvLine(cells: unknown[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

function validateRange(from: Date | undefined, to: Date | undefined): void {
  if (from && to && from.getTime() >= to.getTime()) {
    throw new ApiError('invalid_input', 400, 'Invalid query: from must be before to', { issues: [{ path: 'from', message: 'must be before to' }] });
  }
}

const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;
const STATS_LIMITS = { minute: { defaultMs: HOUR_MS, maxMs: 6 * HOUR_MS }, hour: { defaultMs: DAY_MS, maxMs: 31 * DAY_MS }, day: { defaultMs: 30 * DAY_MS, maxMs: 366 * DAY_MS } } as const;

export function activityRoutes({ services }: RouteDeps): AdminRoute[] {
  const { audit, directory } = services;

  /**
   * Labels a page of events with the names of their clients, the emails of their admins and the names of the
   * users and groups they touched (at most four queries a page, whatever its size).
   */
  async function withClientNames(
    events: AuditEvent[],
    { withResources = true } = {},
  ): Promise<Array<AuditEvent & { clientName: string | null; adminEmail: string | null; resourceName: string | null }>> {
    const [names, emails, resources] = await Promise.all([
      directory.clientNames(events.map((event) => event.clientId)),
      directory.adminEmails(events.map((event) => event.adminId)),
      // The CSV has no name column: its batches skip that query.
      withResources ? directory.resourceNames(events) : new Map<string, string>(),
    ]);
    return events.map((event) => ({
      ...event,
      clientName: event.clientId ? (names.get(event.clientId) ?? null) : null,
      adminEmail: event.adminId ? (emails.get(event.adminId) ?? null) : null,
      resourceName: event.resourceId ? (resources.get(event.resourceId) ?? null) : null,
    }));
  }

  return [
    route({
      method: 'GET',
      path: '/api/admin/activity',
      tag: 'Activity',
      summary: 'The provisioning and administration log, newest first',
      query: object({ ...pageQueryShape, ...filterShape }),
      responses: { 200: { description: 'A page of events', schema: pageOf(activityEventSchema) } },
      handle: async ({ query }) => {
        validateRange(query.from, query.to);
        const page = await audit.list(query);
        return { body: { items: await withClientNames(page.items), total: page.total } };
      },
    }),
    route({
      method: 'GET',
      path: '/api/admin/activity.csv',
      tag: 'Activity',
      summary: `The log as CSV (same filters; at most ${CSV_MAX_ROWS} rows, newest first)`,
      description: 'X-Total-Count gives the number of matching events; X-Roster-Truncated: true when more matched than the file holds.',
      query: object(filterShape),
      responses: { 200: { description: 'RFC 4180 CSV with a header line', contentType: 'text/csv' } },
      handle: async ({ ctx, query }) => {
        validateRange(query.from, query.to);
        const { total } = await audit.list({ ...query, limit: 1 });
        const batches = directory.exportActivity(query, CSV_MAX_ROWS);
        // The first batch is read before any byte is sent, so a failing query still answers a JSON error.
        const first = await batches.next();
        async function* lines(): AsyncGenerator<string> {
          yield csvLine([...CSV_COLUMNS]);
          let next = first;
          while (!next.done) {
            const named = await withClientNames(next.value, { withResources: false });
            yield named.map((event) => csvLine(CSV_COLUMNS.map((column) => event[column]))).join('');
            next = await batches.next();
          }
        }
        const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '');
        ctx.set('Content-Disposition', `attachment; filename="roster-activity-${stamp}.csv"`);
        ctx.set('X-Total-Count', String(total));
        if (total > CSV_MAX_ROWS) ctx.set('X-Roster-Truncated', 'true');
        ctx.type = 'text/csv; charset=utf-8; header=present';
        return { body: Readable.from(lines()) };
      },
    }),
    route({
      method: 'GET',
      path: '/api/admin/activity/stats',
      tag: 'Activity',
      summary: 'SCIM requests and errors per client per minute, hour or day (UTC buckets), for a chart',
      description:
        'Requests are the logged ones (writes and failures) plus the counted successful reads. Defaults: the last hour by minute, the last 24 hours by hour, the last 30 days by day. At most 6 hours by minute, 31 days by hour, 366 by day.',
      query: object({ bucket: queryEnum(['minute', 'hour', 'day']), from: queryDate(), to: queryDate(), clientId: queryString({ format: 'uuid' }) }),
      responses: {
        200: {
          description: 'Points, ordered by bucket then client; buckets without requests are absent',
          schema: object({
            bucket: oneOf(['minute', 'hour', 'day']),
            from: dateTime(),
            to: dateTime(),
            items: array(object({ bucketStart: dateTime(), clientId: nullable(uuid()), clientName: nullable(string()), requests: integer(), errors: integer() })),
          }),
        },
      },
      handle: async ({ query }) => {
        const bucket = query.bucket ?? 'hour';
        const limits = STATS_LIMITS[bucket];
        const to = query.to ?? services.now();
        const from = query.from ?? new Date(to.getTime() - limits.defaultMs);
        validateRange(from, to);
        if (to.getTime() - from.getTime() > limits.maxMs) {
          const span = bucket === 'minute' ? `${limits.maxMs / HOUR_MS} hours` : `${limits.maxMs / DAY_MS} days`;
          throw new ApiError('invalid_input', 400, `Invalid query: a range by ${bucket} spans at most ${span}`, {
            issues: [{ path: 'from', message: `must be at most ${span} before to` }],
          });
        }
        const items = await directory.activityStats({ bucket, from, to, clientId: query.clientId });
        return { body: { bucket, from, to, items } };
      },
    }),
    route({
      method: 'GET',
      path: '/api/admin/activity/reads',
      tag: 'Activity',
      summary: 'Successful SCIM reads, counted per client, endpoint kind and UTC minute, newest first',
      description:
        'Reads (GET, POST .search) that succeeded are not logged one by one: each row counts the requests of one client to one kind of endpoint (users.list, users.get, groups.list, groups.get, discovery, other) within one minute. Counts reach the database within about a second.',
      query: object({ ...pageQueryShape, clientId: queryString({ format: 'uuid' }), from: queryDate(), to: queryDate() }),
      responses: {
        200: {
          description: 'A page of counts',
          schema: pageOf(
            object({
              clientId: uuid(),
              clientName: nullable(string()),
              kind: oneOf([...READ_KINDS]),
              minute: dateTime({ description: 'The start of the UTC minute' }),
              requests: integer(),
              lastAt: dateTime({ description: 'The time of the last of these requests' }),
            }),
          ),
        },
      },
      handle: async ({ query }) => {
        validateRange(query.from, query.to);
        return { body: await services.clientActivity.list(query) };
      },
    }),
  ];
}
