/**
 * Where Tollgate's .proto files are and how both sides of the control API load them at runtime: the
 * control listener (server) and its clients (agent-bootstrap, `tollgate ctl`) must decode with the same
 * options, or a field would read differently on each side. The TypeScript shapes in generated/ are
 * produced from the same files with the same options (`npm run proto:types`; test/structure checks they
 * are current).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import type * as ProtoLoader from '@grpc/proto-loader';

export const IDENTITY_PROTO = 'tollgate/v1/identity.proto';
export const ADMIN_PROTO = 'tollgate/v1/admin.proto';

/** Keep in step with the flags of the `proto:types` script (generated/ is typed for these options). */
export const LOADER_OPTIONS: ProtoLoader.Options = {
  keepCase: false, // camelCase field names
  longs: Number, // int64 milliseconds since epoch fit a double exactly until year 287396
  enums: String,
  defaults: true,
  oneofs: true,
};

/**
 * The proto/ folder: next to protocol/ when run from source (vitest), one level further up when run from
 * dist/protocol/ (and in an installed package). Walk up rather than hard-code either layout.
 */
export function protoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = path.join(dir, 'proto');
    if (existsSync(path.join(candidate, IDENTITY_PROTO))) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`cannot find the proto/ folder (looked upward from ${fileURLToPath(import.meta.url)})`);
}

const require = createRequire(import.meta.url);

/**
 * @grpc/proto-loader, loaded by the first .proto a process parses (it is CommonJS: require() loads it
 * synchronously, as the lazy codecs of protocol/lazy-definition.ts need). With protobufjs under it, it is
 * ~1.2 MB of heap that an idle gateway does not need.
 */
export function protoLoader(): typeof ProtoLoader {
  return require('@grpc/proto-loader') as typeof ProtoLoader;
}

const loaded = new Map<string, grpc.GrpcObject>();

/**
 * One proto file's package object, loaded once per process. Callers cast it to the file's generated
 * ProtoGrpcType: that cast is where the runtime object meets its generated description.
 */
export function loadProto(file: string): unknown {
  let pkg = loaded.get(file);
  if (!pkg) {
    pkg = grpc.loadPackageDefinition(protoLoader().loadSync(file, { ...LOADER_OPTIONS, includeDirs: [protoRoot()] }));
    loaded.set(file, pkg);
  }
  return pkg;
}
