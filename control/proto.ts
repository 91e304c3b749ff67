/**
 * Loads Tollgate's .proto files at runtime (no generated code). Field names are converted to camelCase
 * (proto-loader's default, keepCase: false): every TypeScript shape below uses camelCase.
 * To add a service (e.g. the admin API), add its file to PROTO_FILES and its messages below.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export const PROTO_FILES = ['tollgate/v1/identity.proto'];

const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number, // int64 milliseconds since epoch fit a double exactly until year 287396
  enums: String,
  defaults: true,
  oneofs: true,
};

/**
 * The proto/ folder: next to control/ when run from source (vitest), one level further up when run from
 * dist/control/. Walk up rather than hard-code either layout.
 */
export function protoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = path.join(dir, 'proto');
    if (existsSync(path.join(candidate, PROTO_FILES[0]))) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`cannot find the proto/ folder (looked upward from ${fileURLToPath(import.meta.url)})`);
}

let cached: grpc.GrpcObject | undefined;

/** The `tollgate.v1` package with every service in PROTO_FILES. Loaded once per process. */
export function tollgateV1(): grpc.GrpcObject {
  if (!cached) {
    const def = protoLoader.loadSync(PROTO_FILES, { ...LOADER_OPTIONS, includeDirs: [protoRoot()] });
    const root = grpc.loadPackageDefinition(def);
    cached = (root.tollgate as grpc.GrpcObject).v1 as grpc.GrpcObject;
  }
  return cached;
}

export function serviceDefinition(name: string): grpc.ServiceDefinition {
  const ctor = tollgateV1()[name] as grpc.ServiceClientConstructor | undefined;
  if (!ctor || !('service' in ctor)) throw new Error(`no service tollgate.v1.${name} in ${PROTO_FILES.join(', ')}`);
  return ctor.service;
}

export function serviceClient(name: string): grpc.ServiceClientConstructor {
  const ctor = tollgateV1()[name] as grpc.ServiceClientConstructor | undefined;
  if (!ctor || !('service' in ctor)) throw new Error(`no service tollgate.v1.${name} in ${PROTO_FILES.join(', ')}`);
  return ctor;
}

// Message shapes as proto-loader decodes them (camelCase, int64 as number, bytes as Buffer).
export interface BootstrapRequest {
  token: string;
  csr: Buffer;
}
export interface RenewRequest {
  csr: Buffer;
}
export interface SvidResponse {
  spiffeId: string;
  certChainPem: string;
  bundlePem: string;
  notBeforeUnixMs: number;
  notAfterUnixMs: number;
  serial: string;
}
export interface RevocationsRequest {
  after: number;
}
export interface RevocationMessage {
  seq: number;
  kind: string;
  serial: string;
  spiffeId: string;
  notAfterUnixMs: number;
}
export interface RevocationsResponse {
  revocations: RevocationMessage[];
  cursor: number;
  more: boolean;
}
export interface TrustBundleResponse {
  bundlePem: string;
  trustDomain: string;
  fingerprint: string;
}
