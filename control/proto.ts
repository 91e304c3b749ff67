/**
 * The proto files of the services the control listener registers itself (server.ts: the identity API),
 * for reflection. Loading and the message types live in protocol/, shared with the clients.
 */
import { IDENTITY_PROTO } from '../protocol/protos.js';

export const PROTO_FILES: readonly string[] = [IDENTITY_PROTO];
