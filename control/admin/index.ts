/** The admin control plane: gRPC Admin service, event bus, settings store and overlay, health + reflection. */
export { createAdminService, adminHandlers, eventToMsg, type AdminServiceDeps, type CallGraphSource, type ExplainQuery } from './service.js';
export { createEventBus, eventMatcher, EVENT_KINDS, DEFAULT_MAX_BUFFERED } from './events.js';
export type { EventBus, EventKind, EventFilter, EventSink, EventSubscription, TollgateEvent } from './events.js';
export { openSqliteSettingsStore, settingsDbPath, versionOf, SETTINGS_SECTIONS } from './settings-store.js';
export type { SettingsStore, SettingsSection, StoredSetting } from './settings-store.js';
export { overlaySettings, SECTION_KEYS, type SectionVersions } from './overlay.js';
export { registerHealthAndReflection, HEALTH_SERVICE_NAME } from './health.js';
export { adminServiceDefinition, adminClientConstructor, ADMIN_PROTO, ADMIN_SERVICE_NAME } from '../../protocol/admin.js';
export { nativeTlsPeerOf, adminAuthorizer, type PeerOf } from './authorize.js';
export { AdminError, mapAdminError, toAdminServiceError, type AdminErrorCode } from './errors.js';
