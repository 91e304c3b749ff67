/**
 * The standard gRPC health service (grpc.health.v1.Health) and server reflection (v1 and v1alpha) on the
 * control server, so grpcurl, grpc_health_probe and load balancers work without Tollgate's .proto files.
 */
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { HealthImplementation, protoPath as healthProtoPath, type ServingStatus } from 'grpc-health-check';
import { ReflectionService } from '@grpc/reflection';
import { LOADER_OPTIONS, protoRoot } from '../../protocol/protos.js';

export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

/**
 * `protoFiles`: Tollgate proto files relative to proto/ (e.g. 'tollgate/v1/identity.proto'); reflection
 * describes them plus the health service. `services`: fully qualified names reported SERVING (the overall
 * server, "", always is). Returns the health implementation: set NOT_SERVING on shutdown.
 */
export function registerHealthAndReflection(
  server: grpc.Server,
  protoFiles: readonly string[],
  services: readonly string[] = [],
): HealthImplementation {
  const statuses: Record<string, ServingStatus> = { '': 'SERVING' };
  for (const s of services) statuses[s] = 'SERVING';
  const health = new HealthImplementation(statuses);
  health.addToServer(server);
  const def = protoLoader.loadSync([...protoFiles, healthProtoPath], { ...LOADER_OPTIONS, includeDirs: [protoRoot()] });
  new ReflectionService(def).addToServer(server);
  return health;
}
