/**
 * The control listener registers its services from hand-written method shapes and parses each .proto file
 * on the first call (protocol/lazy-definition.ts). These shapes must be what proto-loader reads from the
 * files (method names, paths, streaming flags, original names), and the lazy codecs must encode and decode
 * exactly as the parsed definition does. Calls through the real listener: test/control/identity-api,
 * test/admin/admin-api (health and reflection included).
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { identityServerDefinition, identityServiceDefinition } from '../../protocol/identity.js';
import { adminServerDefinition, adminServiceDefinition } from '../../protocol/admin.js';
import { lazyServiceDefinition, UNARY } from '../../protocol/lazy-definition.js';
import { HEALTH_SERVICE, REFLECTION_SERVICES } from '../../control/admin/health.js';

/** what grpc-js registers a server method by */
const registered = (def: grpc.ServiceDefinition) =>
  Object.fromEntries(
    Object.entries(def).map(([name, m]) => [
      name,
      { path: m.path, requestStream: m.requestStream, responseStream: m.responseStream, originalName: m.originalName },
    ]),
  );

describe('lazy service definitions', () => {
  it('Identity and Admin: the shapes are the parsed .proto files', () => {
    expect(registered(identityServerDefinition())).toEqual(registered(identityServiceDefinition()));
    expect(registered(adminServerDefinition())).toEqual(registered(adminServiceDefinition()));
  });

  it('health and reflection (v1, v1alpha): the shapes are the libraries’ .proto files, read with their own options', () => {
    for (const service of [HEALTH_SERVICE, ...REFLECTION_SERVICES]) {
      const parsed = protoLoader.loadSync(service.protoFile, service.options)[service.name] as grpc.ServiceDefinition;
      expect(parsed, service.name).toBeDefined();
      const lazy = lazyServiceDefinition(service.name, service.methods, () => parsed);
      expect(registered(lazy)).toEqual(registered(parsed));
    }
  });

  it('the lazy codecs encode and decode as the parsed definition does', () => {
    const lazy = identityServerDefinition();
    const full = identityServiceDefinition();
    const request = { token: 'join-token', csr: Buffer.from([0x30, 0x82, 0x01, 0x0a]) };
    const bytes = full.Bootstrap.requestSerialize(request);
    expect(lazy.Bootstrap.requestSerialize(request)).toEqual(bytes);
    expect(lazy.Bootstrap.requestDeserialize(bytes)).toEqual(full.Bootstrap.requestDeserialize(bytes));
    const answer = {
      spiffeId: 'spiffe://tollgate.local/a',
      certChainPem: 'chain',
      bundlePem: 'bundle',
      notBeforeUnixMs: 1_767_222_000_000,
      notAfterUnixMs: 1_767_225_600_000,
      serial: '0a1b',
    };
    const answerBytes = full.Bootstrap.responseSerialize(answer);
    expect(lazy.Bootstrap.responseSerialize(answer)).toEqual(answerBytes);
    expect(lazy.Bootstrap.responseDeserialize(answerBytes)).toEqual(full.Bootstrap.responseDeserialize(answerBytes));

    const adminLazy = adminServerDefinition();
    const adminFull = adminServiceDefinition();
    const event = {
      timeUnixMs: 1_767_225_600_000,
      kind: 'config',
      actor: 'spiffe://tollgate.local/admin',
      agent: '',
      summary: 'policy set',
      json: '{"section":"policy"}',
    };
    const eventBytes = adminFull.WatchEvents.responseSerialize(event);
    expect(adminLazy.WatchEvents.responseSerialize(event)).toEqual(eventBytes);
    expect(adminLazy.WatchEvents.responseDeserialize(eventBytes)).toEqual(adminFull.WatchEvents.responseDeserialize(eventBytes));
  });

  it('loads the full definition on the first codec use, once; a failed load is retried by the next call', () => {
    const full = identityServiceDefinition();
    let loads = 0;
    let fail = true;
    const lazy = lazyServiceDefinition('tollgate.v1.Identity', { GetTrustBundle: UNARY }, () => {
      loads++;
      if (fail) throw new Error('proto missing');
      return full;
    });
    expect(loads).toBe(0); // declaring the service parses nothing
    expect(() => lazy.GetTrustBundle.requestSerialize({})).toThrow('proto missing');
    fail = false;
    const bytes = lazy.GetTrustBundle.responseSerialize({ bundlePem: 'x' });
    expect(lazy.GetTrustBundle.responseDeserialize(bytes)).toEqual(full.GetTrustBundle.responseDeserialize(bytes));
    expect(loads).toBe(2);
  });
});
