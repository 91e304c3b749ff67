import { shortName } from '../../certs/spiffe-id.js';

/** Short names for a message: "orchestrator -> researcher -> orchestrator". */
export function describePath(ids: readonly string[]): string {
  return ids.map(shortName).join(' -> ');
}
