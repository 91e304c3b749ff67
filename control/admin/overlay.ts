/**
 * How admin-API settings combine with the config file.
 *
 * Rule: a section set through the admin API replaces the same section of the file, whole. The file's
 * `agents:` is ignored once `tollgate ctl agents put/remove` has been used, its `policy:` once
 * `ctl policy set` has been used, and its `rateLimits:` + `delegation:` (+ `shadowRateLimits:`) once `ctl limits set` has been used.
 * Every other key (listen, ca, admins, ...) always comes from the file. The combined config is validated
 * again as a whole, so an overlay that no longer fits the file (say the stored policy names an agent only
 * the file defined) stops the start with an error naming the field, instead of running half-configured.
 * A section saved as null was reset (`tollgate ctl settings reset`): the file's section applies again, and
 * the saved version still counts (versions only grow, so every replica sees the reset as a change).
 */
import { configSchemas, type Config } from '../../config/schema.js';
import { ConfigError, formatIssues } from '../../config/load.js';
import { SETTINGS_SECTIONS, type SettingsSection, type SettingsStore } from './settings-store.js';

/** Config keys each settings section owns. */
export const SECTION_KEYS: Record<SettingsSection, readonly (keyof Config)[]> = {
  agents: ['agents'],
  policy: ['policy', 'shadowPolicy'],
  limits: ['rateLimits', 'delegation', 'shadowRateLimits'],
};

/**
 * The 'policy' section's stored value: the rule list, or `{ policy, shadowPolicy }` while shadow rules are set.
 * The shadow rules share the section (and its version) with the policy, so promoting them is one write and
 * every replica sees policy and shadow change together.
 */
export interface PolicySection {
  policy: unknown;
  shadowPolicy?: unknown;
}

/** The 'limits' section's stored value; shadowRateLimits only while shadow rate limits are set (same section and version). */
export interface LimitsSection {
  rateLimits?: unknown;
  delegation?: unknown;
  shadowRateLimits?: unknown;
}

/** The stored value of a section, taken from a config. */
export function sectionValue(cfg: Config, section: SettingsSection): unknown {
  if (section === 'limits') {
    const v: LimitsSection = { rateLimits: cfg.rateLimits, delegation: cfg.delegation };
    if (cfg.shadowRateLimits !== undefined) v.shadowRateLimits = cfg.shadowRateLimits;
    return v;
  }
  if (section === 'policy' && cfg.shadowPolicy !== undefined) return { policy: cfg.policy, shadowPolicy: cfg.shadowPolicy } satisfies PolicySection;
  return cfg[section];
}

/** `cfg` with one section replaced (not validated: pass the result to validateConfig). */
export function withSection(cfg: Config, section: SettingsSection, value: unknown): Record<string, unknown> {
  if (section === 'limits') {
    const v = (value ?? {}) as LimitsSection;
    return { ...cfg, rateLimits: v.rateLimits, delegation: v.delegation, shadowRateLimits: v.shadowRateLimits };
  }
  if (section === 'policy') {
    // a rule list (as saved before shadow rules existed): the section has no shadow rules
    if (Array.isArray(value) || value === null || typeof value !== 'object') return { ...cfg, policy: value, shadowPolicy: undefined };
    const v = value as PolicySection;
    return { ...cfg, policy: v.policy, shadowPolicy: v.shadowPolicy };
  }
  return { ...cfg, [section]: value };
}

export type Validated = { ok: true; config: Config } | { ok: false; issues: { path: PropertyKey[]; message: string }[] };

/** Run the whole config schema again (cross-section rules such as "policy names a known agent" included). */
export function validateConfig(raw: unknown): Validated {
  const r = configSchemas().configSchema.safeParse(raw);
  return r.success ? { ok: true, config: r.data } : { ok: false, issues: r.error.issues.map((i) => ({ path: [...i.path], message: i.message })) };
}

/** Every section's version in a config overlaid from the store (0 = the file's section). */
export type SectionVersions = Record<SettingsSection, number>;

/**
 * The config to run: `fileConfig` with every section saved through the admin API laid over it, and the
 * versions it was built from. Rejects with ConfigError when the result is invalid.
 */
export async function overlaySettings(fileConfig: Config, store: SettingsStore): Promise<{ config: Config; versions: SectionVersions }> {
  let raw: Record<string, unknown> = { ...fileConfig };
  const used: string[] = [];
  const versions: SectionVersions = { agents: 0, policy: 0, limits: 0 };
  for (const section of SETTINGS_SECTIONS) {
    const saved = await store.get(section);
    if (!saved) continue;
    versions[section] = saved.version;
    if (saved.value === null) continue; // reset: the file's section
    raw = withSection(raw as Config, section, saved.value);
    used.push(`${section} (version ${saved.version}, by ${saved.updatedBy || 'unknown'})`);
  }
  if (used.length === 0) return { config: fileConfig, versions };
  const r = validateConfig(raw);
  if (!r.ok) {
    throw new ConfigError(
      `the settings saved through the admin API (${used.join(', ')}) do not fit the config file: ${formatIssues(r.issues)}. ` +
        'Fix the config file, or change the saved section with `tollgate ctl`.',
    );
  }
  return { config: r.config, versions };
}
