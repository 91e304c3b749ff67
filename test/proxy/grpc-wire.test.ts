import { describe, expect, it } from 'vitest';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { decideGrpcMethod, routeByTenant } from '../../proxy/grpc/wire.js';
import { encodeGrpcMessage, grpcRefusalTrailers, grpcStatusOf, httpStatusOfGrpc, GRPC_STATUS, refusal } from '../../proxy/errors.js';
import { rewriteCard } from '../../proxy/a2a/card.js';

/** A protobuf message written field by field (what a real client sends), framed as one gRPC message. */
function frame(build: (w: BinaryWriter) => void, compressed = false): Buffer {
  const w = new BinaryWriter();
  build(w);
  const msg = Buffer.from(w.finish());
  const head = Buffer.alloc(5);
  head[0] = compressed ? 1 : 0;
  head.writeUInt32BE(msg.length, 1);
  return Buffer.concat([head, msg]);
}

/** The message's fields as [field number, value (strings) or bytes] for comparison. */
function fields(f: Buffer): [number, string][] {
  expect(f[0]).toBe(0);
  expect(f.readUInt32BE(1)).toBe(f.length - 5);
  const r = new BinaryReader(f.subarray(5));
  const out: [number, string][] = [];
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (wt === WireType.LengthDelimited) out.push([no, Buffer.from(r.bytes()).toString('utf8')]);
    else if (wt === WireType.Varint) out.push([no, String(r.uint64())]);
    else throw new Error('unexpected wire type');
  }
  return out;
}

const agents = new Set(['g1', 'team-a']);
const hasAgent = (n: string) => agents.has(n);

describe('gRPC method from the path', () => {
  it('names the v1.0 method; anything else is UNIMPLEMENTED with a reason', () => {
    expect(decideGrpcMethod('/lf.a2a.v1.A2AService/SendMessage')).toEqual({ ok: true, method: 'SendMessage', tenantField: 1 });
    expect(decideGrpcMethod('/lf.a2a.v1.A2AService/ListTaskPushNotificationConfigs')).toMatchObject({ ok: true, tenantField: 4 });
    const bad = (p: string) => {
      const m = decideGrpcMethod(p);
      return m.ok ? undefined : [m.refusal.status, m.refusal.reason];
    };
    expect(bad('/lf.a2a.v1.A2AService/message/send')).toEqual([501, 'grpc_unknown_method']); // JSON-RPC aliases are not gRPC names
    expect(bad('/lf.a2a.v1.A2AService/toString')).toEqual([501, 'grpc_unknown_method']);
    expect(bad('/a2a.v1.A2AService/SendMessage')).toEqual([501, 'grpc_v03']);
    expect(bad('/grpc.health.v1.Health/Check')).toEqual([501, 'grpc_unknown_service']);
  });
});

describe('routing by tenant', () => {
  const msg = (tenant: string | undefined, field = 1) =>
    frame((w) => {
      w.uint32(16).int32(7); // field 2 varint, before the tenant: order must be kept
      if (tenant !== undefined) w.uint32((field << 3) | 2).string(tenant);
      w.uint32(26).string('payload'); // field 3
    });

  it('takes the agent from the tenant and removes it for the agent', () => {
    const r = routeByTenant(msg('g1'), 1, hasAgent);
    expect(r.ok && r.agent).toBe('g1');
    expect(r.ok && fields(r.frame)).toEqual([
      [2, '7'],
      [3, 'payload'],
    ]);
  });

  it("passes the agent's own tenant (after '/') on, in the same field number", () => {
    const r = routeByTenant(msg('team-a/blue/x', 4), 4, hasAgent);
    expect(r.ok && r.agent).toBe('team-a');
    expect(r.ok && fields(r.frame)).toEqual([
      [4, 'blue/x'],
      [2, '7'],
      [3, 'payload'],
    ]);
  });

  it('refuses every other form, with a reason', () => {
    const reason = (b: Buffer, field = 1) => {
      const r = routeByTenant(b, field, hasAgent);
      return r.ok ? 'ok' : `${r.refusal.status} ${r.refusal.reason}`;
    };
    expect(reason(msg(undefined))).toBe('400 grpc_no_tenant');
    expect(reason(msg(''))).toBe('400 grpc_no_tenant');
    expect(reason(msg('g1'), 4)).toBe('400 grpc_no_tenant'); // the tenant is in the wrong field for this method
    expect(reason(msg('nobody'))).toBe('404 unknown_agent');
    expect(reason(msg('G1'))).toBe('404 unknown_agent');
    expect(
      reason(
        frame((w) => {
          w.uint32(10).string('g1');
          w.uint32(10).string('team-a');
        }),
      ),
    ).toBe('400 grpc_tenant_twice');
    expect(reason(frame((w) => w.uint32(10).string('g1'), true))).toBe('501 grpc_compressed');
    const one = msg('g1');
    expect(reason(Buffer.concat([one, one]))).toBe('400 grpc_framing');
    expect(reason(one.subarray(0, one.length - 1))).toBe('400 grpc_framing');
    expect(reason(Buffer.alloc(0))).toBe('400 grpc_framing');
    // a length running past the message, a group wire type, a tenant that is a varint
    expect(
      reason(
        frame((w) =>
          w
            .uint32(10)
            .uint32(50)
            .raw(new Uint8Array([1, 2])),
        ),
      ),
    ).toBe('400 grpc_malformed');
    expect(reason(frame((w) => w.uint32(11)))).toBe('400 grpc_malformed');
    expect(reason(frame((w) => w.uint32(8).int32(1)))).toBe('400 grpc_malformed');
  });
});

describe('refusals on the gRPC binding', () => {
  it('maps refusal statuses to gRPC codes and back', () => {
    expect(grpcStatusOf(401)).toBe(GRPC_STATUS.UNAUTHENTICATED);
    expect(grpcStatusOf(403)).toBe(GRPC_STATUS.PERMISSION_DENIED);
    expect(grpcStatusOf(429)).toBe(GRPC_STATUS.RESOURCE_EXHAUSTED);
    expect(grpcStatusOf(413)).toBe(GRPC_STATUS.RESOURCE_EXHAUSTED);
    expect(grpcStatusOf(502)).toBe(GRPC_STATUS.UNAVAILABLE);
    expect(grpcStatusOf(503)).toBe(GRPC_STATUS.UNAVAILABLE);
    expect(grpcStatusOf(504)).toBe(GRPC_STATUS.DEADLINE_EXCEEDED);
    expect(grpcStatusOf(508)).toBe(GRPC_STATUS.FAILED_PRECONDITION);
    expect(httpStatusOfGrpc(GRPC_STATUS.OK)).toBe(200);
    expect(httpStatusOfGrpc(GRPC_STATUS.NOT_FOUND)).toBe(404);
    expect(httpStatusOfGrpc(GRPC_STATUS.UNAVAILABLE)).toBe(503);
    expect(httpStatusOfGrpc(99)).toBe(500);
  });

  it('percent-encodes grpc-message and carries reason and retry-after', () => {
    expect(encodeGrpcMessage('plain "text" ok')).toBe('plain "text" ok');
    expect(encodeGrpcMessage('100% é\n')).toBe('100%25 %C3%A9%0A');
    expect(grpcRefusalTrailers(refusal(429, -31429, 'caller', 'slow down', { retryAfterSec: 1.2 }))).toEqual({
      'grpc-status': '8',
      'grpc-message': 'slow down',
      'tollgate-reason': 'caller',
      'retry-after': '2',
    });
  });
});

describe('card rewrite for the gRPC binding', () => {
  const card = {
    name: 'a',
    supportedInterfaces: [
      { url: 'https://10.0.0.5:8443/a2a/jsonrpc', protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
      { url: '10.0.0.5:50051', protocolBinding: 'GRPC', protocolVersion: '1.0', tenant: '' },
      { url: 'https://10.0.0.5:50052', protocolBinding: 'GRPC', protocolVersion: '1.0', tenant: 'blue' },
      { url: '10.0.0.5:50053', protocolBinding: 'GRPC', protocolVersion: '0.3' },
    ],
  };
  const base = { gatewayBase: 'https://gw.example:8443/a2a/a', upstreamBasePath: '' };

  it('keeps v1.0 gRPC interfaces of an agent with a gRPC upstream: the gateway address, the agent as tenant', () => {
    const out = rewriteCard(card, { ...base, grpc: { agent: 'a' } }).supportedInterfaces as Record<string, unknown>[];
    expect(out.filter((i) => i.protocolBinding === 'GRPC')).toEqual([
      { url: 'gw.example:8443', protocolBinding: 'GRPC', protocolVersion: '1.0', tenant: 'a' },
      { url: 'https://gw.example:8443', protocolBinding: 'GRPC', protocolVersion: '1.0', tenant: 'a/blue' },
    ]);
  });

  it('drops them when the agent has no gRPC upstream', () => {
    const out = rewriteCard(card, base).supportedInterfaces as Record<string, unknown>[];
    expect(out.map((i) => i.protocolBinding)).toEqual(['JSONRPC']);
  });
});
