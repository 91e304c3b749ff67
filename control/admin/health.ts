/**
 * The standard gRPC health service (grpc.health.v1.Health) and server reflection (v1 and v1alpha) on the
 * control server, so grpcurl, grpc_health_probe and load balancers work without Tollgate's .proto files.
 *
 * Registered at start, implemented on first call: the services are declared by their methods' shapes
 * (protocol/lazy-definition.ts), their codecs come from the libraries' own .proto files parsed by the first
 * call, and grpc-health-check / @grpc/reflection (and the descriptor set reflection precomputes for every
 * file) load only when a client first asks. Most gateways are never asked; measured on an idle `tollgate
 * serve`, loading the libraries at start cost ~3-7 MB RSS, and parsing the three .proto files ~0.4 MB of
 * heap (docs/performance.md "Memory", "Session 6"). The calls are answered by the libraries' own handlers,
 * unchanged.
 */
import * as grpc from '@grpc/grpc-js';
import type * as ProtoLoader from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { HealthImplementation, ServingStatus } from 'grpc-health-check';
import { LOADER_OPTIONS, protoLoader, protoRoot } from '../../protocol/protos.js';
import { BIDI_STREAM, lazyServiceDefinition, SERVER_STREAM, UNARY, type MethodShape } from '../../protocol/lazy-definition.js';

export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

const require = createRequire(import.meta.url);
/** where each library reads its .proto from (relative to its entry; resolving an entry does not load it) */
const entryDir = (name: string) => path.dirname(require.resolve(name));
const HEALTH_PROTO = path.resolve(entryDir('grpc-health-check'), '../../proto/health/v1/health.proto');
const REFLECTION_PROTOS = ['v1', 'v1alpha'].map((v) => path.resolve(entryDir('@grpc/reflection'), `../proto/grpc/reflection/${v}/reflection.proto`));
/** the options each library loads its own service with: the wire shapes its handlers produce */
const HEALTH_LOADER_OPTIONS: ProtoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};
const REFLECTION_LOADER_OPTIONS: ProtoLoader.Options = {
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

/** A library's service: its name and methods as its .proto declares them, and how to parse that file. */
interface LibraryService {
  name: string;
  methods: Record<string, MethodShape>;
  protoFile: string;
  options: ProtoLoader.Options;
}

/** checked against the .proto files by test/control/lazy-definition.test.ts */
export const HEALTH_SERVICE: LibraryService = {
  name: HEALTH_SERVICE_NAME,
  methods: { Check: UNARY, List: UNARY, Watch: SERVER_STREAM },
  protoFile: HEALTH_PROTO,
  options: HEALTH_LOADER_OPTIONS,
};
export const REFLECTION_SERVICES: LibraryService[] = ['v1', 'v1alpha'].map((v, i) => ({
  name: `grpc.reflection.${v}.ServerReflection`,
  methods: { ServerReflectionInfo: BIDI_STREAM },
  protoFile: REFLECTION_PROTOS[i],
  options: REFLECTION_LOADER_OPTIONS,
}));

/** The service definition of `service`, its .proto parsed on the first call. */
function serviceIn(service: LibraryService): { name: string; def: grpc.ServiceDefinition } {
  // a library without its .proto file fails at start, as parsing it at start did
  if (!existsSync(service.protoFile)) throw new Error(`cannot find ${service.protoFile} (${service.name})`);
  const load = () => protoLoader().loadSync(service.protoFile, service.options)[service.name] as grpc.ServiceDefinition;
  return { name: service.name, def: lazyServiceDefinition(service.name, service.methods, load) };
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
  addLazyService(server, serviceIn(HEALTH_SERVICE), loadHealth);

  let reflectionHandlers: Promise<Map<string, Handlers>> | undefined;
  const loadReflection = () =>
    (reflectionHandlers ??= import('@grpc/reflection').then((m) => {
      const described = protoLoader().loadSync([...protoFiles, HEALTH_PROTO], {
        ...LOADER_OPTIONS,
        includeDirs: [protoRoot()],
      });
      const reflection = new m.ReflectionService(described);
      return captureHandlers((s) => reflection.addToServer(s));
    }));
  for (const service of REFLECTION_SERVICES) addLazyService(server, serviceIn(service), loadReflection);

  return {
    setStatus(service, status) {
      statuses[service] = status;
      health?.setStatus(service, status);
    },
  };
}
