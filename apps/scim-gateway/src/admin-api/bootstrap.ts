import type { AdminService } from '@roster/domain';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';

/**
 * At start: make sure ROSTER_ADMIN_EMAIL exists with ROSTER_ADMIN_PASSWORD when configured; otherwise, while
 * no admin exists, print a one-time setup link (valid one hour) so that the first admin can choose an email
 * and password in the browser. The link goes to the log and to the console because an operator starting
 * Roster for the first time reads one or the other; it is the only way in, so it is printed once per start.
 */
export async function bootstrapAdmins(deps: {
  config: Config;
  logger: Logger;
  admins: AdminService;
  print?: (line: string) => void;
}): Promise<{ setupUrl?: string }> {
  const { config, logger, admins } = deps;
  const print = deps.print ?? ((line: string) => console.log(line));
  if (config.bootstrapAdmin) {
    const { admin, action } = await admins.ensureBootstrapAdmin(config.bootstrapAdmin.email, config.bootstrapAdmin.password);
    if (action !== 'unchanged') logger.info({ adminId: admin.id, email: admin.email, action }, 'bootstrap admin from ROSTER_ADMIN_EMAIL');
    return {};
  }
  const setup = await admins.createSetupToken();
  if (!setup) return {};
  const setupUrl = `${config.publicUrl}/admin/setup?token=${encodeURIComponent(setup.token)}`;
  // The token is a secret: the log line carries it because it is the operator's only way in; it is single
  // use, expires in an hour, and stops working as soon as any admin exists.
  logger.warn({ expiresAt: setup.expiresAt.toISOString() }, `No admin exists yet. Create the first one within an hour at ${setupUrl}`);
  // On the console a box that stands out from JSON log lines, the link alone on its line (nothing to trim
  // when copying it).
  for (const line of setupBox(setupUrl)) print(line);
  return { setupUrl };
}

/** The console lines announcing the setup link. */
export function setupBox(setupUrl: string): string[] {
  const rule = '='.repeat(Math.min(100, Math.max(60, setupUrl.length)));
  return [rule, 'Roster: no admin exists yet. Create the first one within an hour at:', '', setupUrl, '', rule];
}
