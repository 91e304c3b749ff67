/**
 * The standard gRPC health service (grpc.health.v1.Health) and server reflection (v1 and v1alpha) on the
 * control server, so grpcurl, grpc_health_probe and load balancers work without Tollgate's .proto files.
 *
 * Registered at start, implemented on first call: the services are declared from their own .proto files
 * with the proto-loader the control API already uses, and grpc-health-check / @grpc/reflection (and the
 * descriptor set reflection precomputes for every file) load only when a client first asks. Most gateways
 * are never asked; measured on an idle `tollgate serve`, loading them at start cost ~3-7 MB RSS
 * (docs/performance.md "Memory"). The calls are answered by the libraries' own handlers, unchanged.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { HealthImplementation, ServingStatus } from 'grpc-health-check';
import { LOADER_OPTIONS, protoRoot } from '../../protocol/protos.js';

export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

const require = createRequire(import.meta.url);
/** where each library reads its .proto from (relative to its entry; resolving an entry does not load it) */
const entryDir = (name: string) => path.dirname(require.resolve(name));
const HEALTH_PROTO = path.resolve(entryDir('grpc-health-check'), '../../proto/health/v1/health.proto');
const REFLECTION_PROTOS = ['v1', 'v1alpha'].map((v) => path.resolve(entryDir('@grpc/reflection'), `../proto/grpc/reflection/${v}/reflection.proto`));
/** the options each library loads its own service with: the wire shapes its handlers produce */
const HEALTH_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};
const REFLECTION_LOADER_OPTIONS: protoLoader.Options = {
  longs: String,
  enums: String,
  bytes: Array,
  defaults: true,
  oneofs: true,
};

type Handlers = Record<string, (...args: never[]) => void>;

/** The handlers a library registers, captured from its addToServer(), keyed by service path prefix. */
function captureHandlers(addToServer: (server: grpc.Server) => void): Map<string, Handlers> {
  const byService = new Map<string, Handlers>();
  const recorder = {
    addService(def: grpc.ServiceDefinition, impl: Handlers) {
      const firstPath = Object.values(def)[0].path;
      byService.set(firstPath.slice(0, firstPath.lastIndexOf('/')), impl);
    },
  } as unknown as grpc.Server;
  addToServer(recorder);
  return byService;
}

/** The service definition of the one service in `protoFile`. */
function serviceIn(protoFile: string, options: protoLoader.Options): { name: string; def: grpc.ServiceDefinition } {
  const pkg = protoLoader.loadSync(protoFile, options);
  const [name, def] = Object.entries(pkg).find(([, v]) => !('format' in v))!;
  return { name, def: def as grpc.ServiceDefinition };
}

/**
 * Register `def` with handlers that load the implementation (once) and hand each call to it.
 * A failure to load answers the call with INTERNAL.
 */
function addLazyService(server: grpc.Server, service: { name: string; def: grpc.ServiceDefinition }, load: () => Promise<Map<string, Handlers>>): void {
  const impl: grpc.UntypedServiceImplementation = {};
  for (const [method, attrs] of Object.entries(service.def)) {
    const fail = (err: unknown) => ({
      code: grpc.status.INTERNAL,
      details: `${service.name} is unavailable: ${(err as Error).message}`,
    });
    // grpc-js finds a handler by method name or by its originalName (lowerCamel): the libraries use either
    const real = () =>
      load().then((all) => {
        const h = all.get(`/${service.name}`)!;
        return (h[method] ?? h[attrs.originalName ?? '']) as (...args: unknown[]) => void;
      });
    impl[method] = attrs.responseStream
      ? (call: grpc.ServerWritableStream<unknown, unknown>) =>
          void real().then(
            (h) => h(call),
            (err: unknown) => call.destroy(Object.assign(new Error(fail(err).details), fail(err))),
          )
      : (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) =>
          void real().then(
            (h) => h(call, cb),
            (err: unknown) => cb(fail(err)),
          );
  }
  server.addService(service.def, impl);
}

/** Serving statuses; what the health service reports once loaded (and what it already reports, when it is). */
export interface HealthStatuses {
  setStatus(service: string, status: ServingStatus): void;
}

/**
 * `protoFiles`: Tollgate proto files relative to proto/ (e.g. 'tollgate/v1/identity.proto'); reflection
 * describes them plus the health service. `services`: fully qualified names reported SERVING (the overall
 * server, "", always is). Returns the statuses: set NOT_SERVING on shutdown.
 */
export function registerHealthAndReflection(server: grpc.Server, protoFiles: readonly string[], services: readonly string[] = []): HealthStatuses {
  const statuses: Record<string, ServingStatus> = { '': 'SERVING' };
  for (const s of services) statuses[s] = 'SERVING';

  let health: HealthImplementation | undefined;
  let healthHandlers: Promise<Map<string, Handlers>> | undefined;
  const loadHealth = () =>
    (healthHandlers ??= import('grpc-health-check').then((m) => {
      health = new m.HealthImplementation(statuses);
      return captureHandlers((s) => health!.addToServer(s));
    }));
  addLazyService(server, serviceIn(HEALTH_PROTO, HEALTH_LOADER_OPTIONS), loadHealth);

  let reflectionHandlers: Promise<Map<string, Handlers>> | undefined;
  const loadReflection = () =>
    (reflectionHandlers ??= import('@grpc/reflection').then((m) => {
      const described = protoLoader.loadSync([...protoFiles, HEALTH_PROTO], {
        ...LOADER_OPTIONS,
        includeDirs: [protoRoot()],
      });
      const reflection = new m.ReflectionService(described);
      return captureHandlers((s) => reflection.addToServer(s));
    }));
  for (const file of REFLECTION_PROTOS) addLazyService(server, serviceIn(file, REFLECTION_LOADER_OPTIONS), loadReflection);

  return {
    setStatus(service, status) {
      statuses[service] = status;
      health?.setStatus(service, status);
    },
  };
}
