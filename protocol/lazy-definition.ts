/**
 * A gRPC service definition a server can register before any .proto file is parsed.
 *
 * grpc-js registers a server method from its path, its two streaming flags and its original (lowerCamel)
 * name; it needs the method's codecs only when a call arrives. Parsing .proto files is what costs: on an
 * idle `tollgate serve`, @grpc/proto-loader, protobufjs and the parsed identity, admin, health and
 * reflection files held ~2.2 MB of V8 heap (docs/performance.md "Session 6") before anyone called. So a
 * method here is declared by its shape, and its codecs load the full definition on their first use:
 * synchronously, because grpc-js calls codecs synchronously. Each file is parsed by its own service's first
 * call: identity.proto once an agent bootstraps, renews or reads revocations (then it stays), admin.proto
 * by the first admin call, health and reflection by the first probe. The first
 * control call of a process pays loading proto-loader and parsing its file (~70-260 ms on the shared 2-core
 * VM; admin.proto after it ~20-70 ms), once. It runs on the event loop the proxy shares, so calls in
 * flight at that moment wait that long once; no proxied request ever loads anything.
 *
 * The shapes are written by hand next to each service; test/control/lazy-definition.test.ts checks every
 * one against the definition proto-loader makes from the same file, and that a call decodes the same.
 */
import type * as grpc from '@grpc/grpc-js';

/** How a method streams; everything else grpc-js needs follows from its service and name. */
export interface MethodShape {
  requestStream: boolean;
  responseStream: boolean;
}

export const UNARY: MethodShape = { requestStream: false, responseStream: false };
export const SERVER_STREAM: MethodShape = { requestStream: false, responseStream: true };
export const BIDI_STREAM: MethodShape = { requestStream: true, responseStream: true };

/** A definition's method names (the index signature of grpc.ServiceDefinition left out). */
export type MethodNames<D> = keyof { [M in keyof D as string extends M ? never : M]: true };

/**
 * `service`: the fully qualified name (tollgate.v1.Identity). `load`: the full definition of that service,
 * called once, on the first codec use (a failure is thrown to that call, and the next call tries again).
 */
export function lazyServiceDefinition(
  service: string,
  methods: Readonly<Record<string, MethodShape>>,
  load: () => grpc.ServiceDefinition,
): grpc.ServiceDefinition {
  let full: grpc.ServiceDefinition | undefined;
  const real = (name: string): grpc.MethodDefinition<unknown, unknown> => (full ??= load())[name];
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, shape] of Object.entries(methods)) {
    def[name] = {
      path: `/${service}/${name}`,
      // what proto-loader sets (lodash.camelcase of the method name): grpc-js finds a handler by either name
      originalName: name.charAt(0).toLowerCase() + name.slice(1),
      requestStream: shape.requestStream,
      responseStream: shape.responseStream,
      requestSerialize: (value: unknown) => real(name).requestSerialize(value),
      requestDeserialize: (bytes: Buffer) => real(name).requestDeserialize(bytes),
      responseSerialize: (value: unknown) => real(name).responseSerialize(value),
      responseDeserialize: (bytes: Buffer) => real(name).responseDeserialize(bytes),
    };
  }
  return def;
}
