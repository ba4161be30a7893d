/* global AbortSignal */
// `pnpm soak [--minutes N]` (default 10): a bounded mixed workload in the patterns of three identity providers
// (Entra ID, Okta, Keycloak) against TWO Roster processes sharing a PRIVATE PostgreSQL server (own data directory
// and port, never the machine's shared one), with a PostgreSQL restart half-way. Every operation that fails with
// 503 or a dropped connection is retried until it succeeds, so the workload's own record of the directory is
// exact; at the end the directory (read through both processes and counted in the database) must equal it.
// Exit 0 when consistent and no unexpected status was seen; 1 otherwise. Binds and targets 127.0.0.1 only.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PG_BIN = process.env.ROSTER_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ADMIN = { email: 'soak-admin@example.com', password: 'soak admin password 123' };

const minutesArg = process.argv.indexOf('--minutes');
const minutes = minutesArg > 0 ? Number(process.argv[minutesArg + 1]) : 10;
if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 240) {
  console.error('usage: pnpm soak [--minutes N]   (0 < N <= 240, default 10)');
  process.exit(2);
}
if (!fs.existsSync(path.join(PG_BIN, 'initdb'))) {
  console.error(`soak: PostgreSQL server binaries not found in ${PG_BIN} (set ROSTER_TEST_PG_BIN)`);
  process.exit(2);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (...args) => console.log(`soak ${new Date().toISOString().slice(11, 19)}`, ...args);

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// --- private PostgreSQL -------------------------------------------------------------------------------------
const asPostgres = (command) => {
  const result = process.getuid?.() === 0 ? spawnSync('su', ['postgres', '-s', '/bin/sh', '-c', command], { encoding: 'utf8', timeout: 60_000 }) : spawnSync('/bin/sh', ['-c', command], { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`${command}: ${result.stdout}${result.stderr}`);
  return result.stdout;
};
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-soak-'));
const dataDir = path.join(base, 'data');
if (process.getuid?.() === 0) spawnSync('chown', ['postgres:postgres', base]);
const pgPort = await freePort();
let pgRunning = false;
const pgCtl = (action) => asPostgres(`${PG_BIN}/pg_ctl -D ${dataDir} -l ${base}/server.log -w -t 30 ${action === 'start' ? `-o "-c listen_addresses=127.0.0.1 -p ${pgPort} -k ${base}"` : '-m fast'} ${action}`);
const psql = (sql) => asPostgres(`${PG_BIN}/psql -h 127.0.0.1 -p ${pgPort} -U postgres -d postgres -tAqc "${sql.replace(/"/g, '\\"')}"`).trim();

// --- gateway processes --------------------------------------------------------------------------------------
const gateways = [];
async function startGateway() {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', 'apps/scim-gateway/src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', PORT: String(port), PUBLIC_URL: url, DATABASE_URL: `postgres://postgres@127.0.0.1:${pgPort}/postgres`, ROSTER_ADMIN_EMAIL: ADMIN.email, ROSTER_ADMIN_PASSWORD: ADMIN.password, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = [];
  child.stdout.on('data', (chunk) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk) => output.push(chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const gateway = { url, child, exited, output };
  gateways.push(gateway);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`gateway exited: ${output.join('').slice(-2000)}`);
    try {
      if ((await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) })).status === 200) return gateway;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error('gateway did not become ready in 60 s');
}

let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const gateway of gateways) if (gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
  try {
    if (pgRunning) pgCtl('stop');
  } catch (error) {
    console.error(`soak: could not stop the private PostgreSQL: ${error.message}`);
  }
  fs.rmSync(base, { recursive: true, force: true });
}
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));
process.on('SIGTERM', () => void cleanup().then(() => process.exit(143)));

// --- HTTP with retries --------------------------------------------------------------------------------------
const stats = { requests: 0, retried: 0, byStatus: {}, unexpected: [] };

async function http(url, method, body, headers = {}) {
  const response = await fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, body: json, text, headers: response.headers };
}

/**
 * One SCIM operation, retried on 503 / 429 / a dropped connection until it gives one of `accept` (bounded: 2 min).
 * Any other status is recorded as unexpected.
 */
async function scim(client, gateway, method, pathname, body, accept) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    stats.requests++;
    let response;
    try {
      response = await http(`${gateway.url}/scim_v2${pathname}`, method, body, { authorization: `Bearer ${client.token}` });
    } catch (error) {
      response = { status: 0, text: String(error) };
    }
    stats.byStatus[response.status] = (stats.byStatus[response.status] ?? 0) + 1;
    if (accept.includes(response.status)) return response;
    if ([0, 503, 429].includes(response.status) && Date.now() < deadline) {
      stats.retried++;
      await sleep(response.status === 0 ? 250 : Math.min(5, Number(response.headers?.get('retry-after') ?? 1)) * 200);
      continue;
    }
    stats.unexpected.push(`${client.name}: ${method} ${pathname} -> ${response.status} ${response.text.slice(0, 200)}`);
    return response;
  }
}

// --- the workload -------------------------------------------------------------------------------------------
// Each identity provider works on its own users and groups (its own name prefix) sequentially, so its record of
// what it did is exact: users { userName -> { id, active, displayName } | deleted }, groups { name -> Set(ids) }.

function makeRecord() {
  return { users: new Map(), deleted: new Set(), groups: new Map() };
}

const pick = (list) => list[Math.floor(Math.random() * list.length)];

async function ensureUser(client, gateway, record, userName, extra = {}) {
  // All three look the user up by filter before creating it (Entra and Okta do exactly this).
  const found = await scim(client, gateway, 'GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`, undefined, [200]);
  if (found.body?.totalResults > 0) return found.body.Resources[0].id;
  const created = await scim(client, gateway, 'POST', '/Users', { schemas: [USER], userName, active: true, displayName: userName, ...extra }, [201, 409]);
  if (created.status === 201) return created.body.id;
  // 409 after a retry: our earlier attempt committed before the connection dropped.
  const again = await scim(client, gateway, 'GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`, undefined, [200]);
  return again.body.Resources[0].id;
}

async function step(idp, client, record, counter) {
  const gateway = pick(gateways);
  const live = [...record.users.entries()];
  const roll = Math.random();
  if (live.length < 5 || roll < 0.3) {
    const userName = `${idp}-${counter}@soak.example.com`;
    const id = await ensureUser(client, gateway, record, userName, idp === 'entra' ? { externalId: `ext-${counter}` } : {});
    record.users.set(userName, { id, active: true, displayName: userName });
    return;
  }
  const [userName, user] = pick(live);
  if (roll < 0.45) {
    const displayName = `${userName} ${counter}`;
    if (idp === 'okta') {
      // Okta: full replacement with PUT.
      await scim(client, gateway, 'PUT', `/Users/${user.id}`, { schemas: [USER], userName, active: user.active, displayName }, [200]);
    } else {
      await scim(client, gateway, 'PATCH', `/Users/${user.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'displayName', value: displayName }] }, [200, 204]);
    }
    user.displayName = displayName;
  } else if (roll < 0.55) {
    const active = !user.active;
    await scim(client, gateway, 'PATCH', `/Users/${user.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', value: { active } }] }, [200, 204]);
    user.active = active;
  } else if (roll < 0.62) {
    // Keycloak's plugin doubles the slash.
    const path = idp === 'keycloak' ? `//Users/${user.id}` : `/Users/${user.id}`;
    await scim(client, gateway, 'DELETE', path, undefined, [204, 404]);
    for (const group of record.groups.values()) group.members.delete(user.id);
    record.users.delete(userName);
    record.deleted.add(user.id);
  } else {
    const groupName = `${idp} group ${Math.floor(Math.random() * 3)}`;
    let group = record.groups.get(groupName);
    if (!group) {
      const found = await scim(client, gateway, 'GET', `/Groups?filter=${encodeURIComponent(`displayName eq "${groupName}"`)}`, undefined, [200]);
      let id = found.body?.Resources?.[0]?.id;
      if (!id) {
        const created = await scim(client, gateway, 'POST', '/Groups', { schemas: [GROUP], displayName: groupName, members: [] }, [201, 409]);
        id = created.status === 201 ? created.body.id : (await scim(client, gateway, 'GET', `/Groups?filter=${encodeURIComponent(`displayName eq "${groupName}"`)}`, undefined, [200])).body.Resources[0].id;
      }
      group = { id, members: new Set() };
      record.groups.set(groupName, group);
    }
    const members = group.members;
    if (members.has(user.id) && Math.random() < 0.5) {
      await scim(client, gateway, 'PATCH', `/Groups/${group.id}`, { schemas: [PATCH], Operations: [{ op: 'remove', path: `members[value eq "${user.id}"]` }] }, [200, 204]);
      members.delete(user.id);
    } else {
      await scim(client, gateway, 'PATCH', `/Groups/${group.id}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: user.id }] }] }, [200, 204]);
      members.add(user.id);
    }
  }
}

async function check(idp, client, record) {
  const problems = [];
  for (const [userName, expected] of record.users) {
    for (const gateway of gateways) {
      const response = await scim(client, gateway, 'GET', `/Users/${expected.id}`, undefined, [200, 404]);
      if (response.status !== 200) problems.push(`${idp}: user ${userName} missing`);
      else if (response.body.active !== expected.active || response.body.displayName !== expected.displayName || response.body.userName !== userName) {
        problems.push(`${idp}: user ${userName} is ${JSON.stringify({ active: response.body.active, displayName: response.body.displayName })}, expected ${JSON.stringify(expected)}`);
      }
    }
  }
  for (const id of record.deleted) {
    const response = await scim(client, gateways[0], 'GET', `/Users/${id}`, undefined, [200, 404]);
    if (response.status !== 404) problems.push(`${idp}: deleted user ${id} still answers ${response.status}`);
  }
  for (const [name, group] of record.groups) {
    const response = await scim(client, pick(gateways), 'GET', `/Groups/${group.id}`, undefined, [200]);
    const actual = new Set((response.body?.members ?? []).map((member) => member.value));
    const missing = [...group.members].filter((id) => !actual.has(id));
    const extra = [...actual].filter((id) => !group.members.has(id));
    if (missing.length || extra.length) problems.push(`${idp}: group "${name}" missing ${missing.length}, extra ${extra.length} members`);
  }
  const counted = Number(psql(`select count(*) from users where user_name like '${idp}-%'`));
  if (counted !== record.users.size) problems.push(`${idp}: the database holds ${counted} users, the record ${record.users.size}`);
  return problems;
}

// --- run ----------------------------------------------------------------------------------------------------
let exitCode = 1;
try {
  log(`starting: ${minutes} minute(s), private PostgreSQL on 127.0.0.1:${pgPort}`);
  asPostgres(`${PG_BIN}/initdb -D ${dataDir} -U postgres --auth=trust -E UTF8 >/dev/null`);
  pgCtl('start');
  pgRunning = true;
  await startGateway();
  await startGateway();
  psql(`insert into auth_providers (name, kind, metadata) values ('Soak SAML provider', 'saml', '{}')`);
  const providerId = psql('select id from auth_providers limit 1');

  const session = await http(`${gateways[0].url}/api/admin/session`, 'POST', ADMIN, { 'content-type': 'application/json' });
  const cookie = session.headers.get('set-cookie').split(';')[0];
  const adminHeaders = { cookie, 'x-csrf-token': session.body.csrfToken, 'content-type': 'application/json' };
  await http(`${gateways[0].url}/api/admin/settings`, 'PATCH', { usersDeletableByAdmins: true }, adminHeaders);
  const clients = {};
  for (const idp of ['entra', 'okta', 'keycloak']) {
    const created = await http(`${gateways[0].url}/api/admin/scim-clients`, 'POST', { name: `Soak ${idp}`, authProviderId: providerId, authMethod: 'static_token' }, adminHeaders);
    if (created.status !== 201) throw new Error(`could not create the ${idp} client: ${created.text}`);
    clients[idp] = { name: idp, token: created.body.token };
  }

  const endAt = Date.now() + minutes * 60_000;
  const records = { entra: makeRecord(), okta: makeRecord(), keycloak: makeRecord() };
  const workers = Object.keys(records).map(async (idp) => {
    let counter = 0;
    while (Date.now() < endAt) await step(idp, clients[idp], records[idp], ++counter);
  });

  // Half-way: PostgreSQL goes away for 5 s and comes back; the processes are not restarted.
  const restart = (async () => {
    await sleep((endAt - Date.now()) / 2);
    log('stopping PostgreSQL');
    pgCtl('stop');
    await sleep(5000);
    pgCtl('start');
    log('PostgreSQL is back');
  })();
  const progress = setInterval(() => log(`${stats.requests} requests, ${stats.retried} retried, statuses ${JSON.stringify(stats.byStatus)}`), 30_000);
  await Promise.all([...workers, restart]);
  clearInterval(progress);

  log('checking the directory against the workload record');
  const problems = [];
  for (const idp of Object.keys(records)) problems.push(...(await check(idp, clients[idp], records[idp])));
  for (const gateway of gateways) if (gateway.child.exitCode !== null) problems.push('a gateway process died during the run');
  const sizes = Object.fromEntries(Object.entries(records).map(([idp, record]) => [idp, { users: record.users.size, deleted: record.deleted.size, groups: record.groups.size }]));
  log(`done: ${stats.requests} requests, ${stats.retried} retried, statuses ${JSON.stringify(stats.byStatus)}, record ${JSON.stringify(sizes)}`);
  for (const line of stats.unexpected.slice(0, 20)) console.log(`  unexpected: ${line}`);
  for (const line of problems.slice(0, 50)) console.log(`  inconsistent: ${line}`);

  // A clean stop: SIGTERM, exit 0.
  for (const gateway of gateways) gateway.child.kill('SIGTERM');
  const codes = await Promise.all(gateways.map((gateway) => Promise.race([gateway.exited, sleep(20_000).then(() => 'timeout')])));
  if (codes.some((code) => code !== 0)) problems.push(`gateway exit codes after SIGTERM: ${codes.join(', ')}`);
  exitCode = problems.length === 0 && stats.unexpected.length === 0 ? 0 : 1;
  log(exitCode === 0 ? 'PASS: the directory matches the workload record' : `FAIL: ${problems.length} inconsistencies, ${stats.unexpected.length} unexpected responses`);
} catch (error) {
  console.error(`soak: ${error.stack ?? error}`);
  for (const gateway of gateways) console.error(gateway.output.join('').slice(-2000));
} finally {
  await cleanup();
}
process.exit(exitCode);
