/**
 * The Admin service definition, loaded at runtime from proto/tollgate/v1/admin.proto with the same loader
 * options as control/proto.ts (camelCase fields, int64 as number, unset optional fields absent).
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoRoot } from '../proto.js';

export const ADMIN_PROTO = 'tollgate/v1/admin.proto';
export const ADMIN_SERVICE_NAME = 'tollgate.v1.Admin';

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

let cached: grpc.ServiceClientConstructor | undefined;

export function adminClientConstructor(): grpc.ServiceClientConstructor {
  if (!cached) {
    const def = protoLoader.loadSync(ADMIN_PROTO, { ...LOADER_OPTIONS, includeDirs: [protoRoot()] });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { tollgate: { v1: { Admin: grpc.ServiceClientConstructor } } };
    cached = pkg.tollgate.v1.Admin;
  }
  return cached;
}

export function adminServiceDefinition(): grpc.ServiceDefinition {
  return adminClientConstructor().service;
}
