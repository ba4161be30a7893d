import type { Knex } from 'knex';
import { createAuditService } from './audit.js';

// Instance-wide settings, one row per key in `settings` (value jsonb). Absent rows mean the default.

export interface Settings {
  /** "User accounts deletable by admins": SCIM DELETE of a user removes it. Off: the deletion is refused. */
  usersDeletableByAdmins: boolean;
  /** "Lock users when deletion is refused": a refused SCIM DELETE deactivates the user instead. */
  lockOnRefusedDelete: boolean;
  /** Days the directory change log keeps a change (docs/changes.md); older ones are pruned. */
  changeRetentionDays: number;
  /** Audit events older than this many days are deleted by the hourly sweep (1..3650). */
  auditRetentionDays: number;
  /**
   * A URN in a SCIM body that no declared extension schema owns: "reject" answers 400 invalidValue naming it,
   * "keep" stores its values verbatim under the URN (shown as unrecognized in the directory). Default for new
   * installs: "reject"; installs upgraded with data get "keep" (migration 20261207060100).
   */
  unknownExtensions: UnknownExtensionsPolicy;
}

export type UnknownExtensionsPolicy = 'reject' | 'keep';
export const UNKNOWN_EXTENSIONS_POLICIES: readonly UnknownExtensionsPolicy[] = ['reject', 'keep'];

/**
 * Whether a stored jsonb value (or a patch value) is a valid value of the setting `key`: a policy name, or a value
 * of the type of the setting's default (booleans, whole numbers of days).
 */
function isSettingValue(key: keyof Settings, value: unknown): boolean {
  if (key === 'unknownExtensions') return typeof value === 'string' && (UNKNOWN_EXTENSIONS_POLICIES as readonly string[]).includes(value);
  return typeof value === typeof DEFAULT_SETTINGS[key];
}

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  usersDeletableByAdmins: false,
  lockOnRefusedDelete: true,
  auditRetentionDays: 90,
  unknownExtensions: 'reject' as UnknownExtensionsPolicy,
  changeRetentionDays: 90,
});
export const SETTING_KEYS = Object.keys(DEFAULT_SETTINGS) as Array<keyof Settings>;

/**
 * How long get() may answer from memory. SCIM DELETE reads the settings on every call, so they are cached;
 * an update clears the cache of the process that made it at once, and reaches other processes sharing the
 * database within this bound (DESIGN.md: caches are bounded in time).
 */
export const SETTINGS_CACHE_MS = 2000;

export interface SettingsServiceOptions {
  now?: () => number;
  cacheMs?: number;
}

export function createSettingsService(knex: Knex, options: SettingsServiceOptions = {}) {
  const now = options.now ?? Date.now;
  const cacheMs = options.cacheMs ?? SETTINGS_CACHE_MS;
  const audit = createAuditService(knex);
  let cached: { value: Settings; at: number } | undefined;
  let pending: Promise<Settings> | undefined;
  // Bumped on update so that a read started before the update cannot refill the cache with old values.
  let generation = 0;

  async function load(db: Knex | Knex.Transaction = knex): Promise<Settings> {
    const rows = (await db('settings').select('key', 'value').whereIn('key', SETTING_KEYS)) as Array<{ key: string; value: unknown }>;
    const settings: Settings = { ...DEFAULT_SETTINGS };
    // A stored value counts when it has the type of the setting's default (booleans, whole numbers of days).
    for (const row of rows) {
      const key = row.key as keyof Settings;
      if ((SETTING_KEYS as string[]).includes(key) && isSettingValue(key, row.value)) (settings as unknown as Record<string, unknown>)[key] = row.value;
    }
    return settings;
  }

  return {
    /**
     * The cached settings while they are fresh (as get() would answer them without reading), else undefined:
     * for readers on every request that must not await (the SCIM schema set). Not a copy: do not change it.
     */
    peek(): Readonly<Settings> | undefined {
      return cached && now() - cached.at < cacheMs ? cached.value : undefined;
    },

    async get(): Promise<Settings> {
      if (cached && now() - cached.at < cacheMs) return { ...cached.value };
      if (!pending) {
        const started = generation;
        const at = now();
        pending = load()
          .then((value) => {
            if (started === generation) cached = { value, at };
            return value;
          })
          .finally(() => {
            pending = undefined;
          });
      }
      return { ...(await pending) };
    },

    /** Writes the given keys (the caller validated them) and returns the whole settings object. */
    async update(patch: Partial<Settings>, adminId: string, requestId?: string): Promise<Settings> {
      const entries = SETTING_KEYS.filter((key) => isSettingValue(key, patch[key])).map((key) => [key, patch[key]] as const);
      const result = await knex.transaction(async (trx) => {
        const before = await load(trx);
        for (const [key, value] of entries) {
          await trx('settings')
            .insert({ key, value: JSON.stringify(value), updated_at: trx.fn.now() })
            .onConflict('key')
            .merge(['value', 'updated_at']);
        }
        const after = await load(trx);
        const changed = SETTING_KEYS.filter((key) => before[key] !== after[key]);
        if (changed.length > 0) {
          await audit.record(
            {
              actorType: 'admin',
              adminId,
              operation: 'admin.settings.update',
              resourceType: 'Settings',
              status: 200,
              requestId,
              detail: Object.fromEntries(changed.map((key) => [key, { from: before[key], to: after[key] }])),
            },
            trx,
          );
        }
        return after;
      });
      generation += 1;
      cached = undefined;
      return result;
    },
  };
}

export type SettingsService = ReturnType<typeof createSettingsService>;
