/**
 * The three calls an agent makes to the identity API. Each call opens its own channel and closes it:
 * they happen once an hour or so, and a fresh channel means a fresh TLS handshake with the CURRENT
 * key and certificate (grpc-js would otherwise reuse a connection made with the old ones).
 */
import * as grpc from '@grpc/grpc-js';
import {
  identityClientConstructor,
  type IdentityClient,
  type Revocations__Output,
  type SvidResponse__Output,
  type TrustBundle__Output,
} from '../protocol/identity.js';
import { ERROR_CODE_METADATA_KEY } from '../protocol/errors.js';
import { grpcTls } from '../protocol/grpc-tls.js';
import { BootstrapError } from './errors.js';

export interface CallOptions {
  /** per call, ms (default 10 s) */
  deadlineMs?: number;
}

/** Check HOST:PORT early so a typo gets a clear message instead of a resolver error. */
export function checkServerAddress(server: string): string {
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(server)) {
    throw new BootstrapError('invalid_argument', `invalid server address ${JSON.stringify(server)}: expected HOST:PORT, e.g. 127.0.0.1:8444`);
  }
  return server;
}

type Method = 'Bootstrap' | 'Renew' | 'GetTrustBundle' | 'GetRevocations';
/** One typed call on the client: the request and the answer are checked against identity.proto. */
type Invoke<Res> = (client: IdentityClient, options: grpc.CallOptions, done: grpc.requestCallback<Res>) => void;

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // Never share a connection with another channel of this process that has other credentials.
  'grpc.use_local_subchannel_pool': 1,
};

/** TLS credentials for `server`: trust `rootsPem` (or nobody's word, with `unverified`), optionally present a key. */
function credentials(server: string, trust: { rootsPem: string } | 'unverified', own?: { keyPem: string; certChainPem: string }) {
  const tls = grpcTls(server);
  if (trust === 'unverified')
    return { tls, creds: grpc.credentials.createSsl(null, null, null, { rejectUnauthorized: false, checkServerIdentity: () => undefined }) };
  const creds = grpc.credentials.createSsl(Buffer.from(trust.rootsPem), own ? Buffer.from(own.keyPem) : null, own ? Buffer.from(own.certChainPem) : null, {
    checkServerIdentity: tls.checkServerIdentity,
  });
  return { tls, creds };
}

async function call<Res>(server: string, c: ReturnType<typeof credentials>, method: Method, invoke: Invoke<Res>, opts: CallOptions): Promise<Res> {
  const Ctor = identityClientConstructor();
  const client = new Ctor(checkServerAddress(server), c.creds, { ...CHANNEL_OPTIONS, ...c.tls.options });
  const deadline = Date.now() + (opts.deadlineMs ?? 10_000);
  try {
    return await new Promise<Res>((resolve, reject) => {
      invoke(client, { deadline }, (err, res) => (err ? reject(err) : resolve(res as Res)));
    });
  } catch (err) {
    throw fromGrpcError(err as grpc.ServiceError, method, server);
  } finally {
    client.close();
  }
}

function fromGrpcError(err: grpc.ServiceError, method: Method, server: string): BootstrapError {
  const statusName = grpc.status[err.code] ?? String(err.code);
  // The CA names its reason in the trailers of every error it sends itself: then it was reached, and the
  // answer is its own (a full disk or a lost database is UNAVAILABLE too, and no network problem).
  const reason = err.metadata?.get(ERROR_CODE_METADATA_KEY)?.[0]?.toString();
  if (reason !== undefined && err.code === grpc.status.UNAVAILABLE) {
    return new BootstrapError('unavailable', `the Tollgate CA at ${server} answered but cannot serve ${method} now (${statusName}): ${err.details}`, {
      cause: err,
      grpcStatus: statusName,
      reason,
    });
  }
  if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED) {
    return new BootstrapError(
      'unavailable',
      `cannot reach the Tollgate CA at ${server} (${statusName}: ${err.details}); check the address and that \`tollgate serve\` is running`,
      {
        cause: err,
        grpcStatus: statusName,
      },
    );
  }
  return new BootstrapError('refused', `${method} refused by the CA (${statusName}): ${err.details}`, { cause: err, grpcStatus: statusName, reason });
}

/**
 * GetTrustBundle over TLS WITHOUT verifying the server: the answer is untrusted until the caller checks
 * it against a pinned fingerprint. Nothing secret is sent on this channel.
 */
export function fetchTrustBundleUnverified(server: string, opts: CallOptions = {}): Promise<TrustBundle__Output> {
  return call<TrustBundle__Output>(
    server,
    credentials(server, 'unverified'),
    'GetTrustBundle',
    (c, o, done) => c.GetTrustBundle({}, new grpc.Metadata(), o, done),
    opts,
  );
}

/** Bootstrap over a channel that trusts only `rootsPem` and checks the server's hostname as usual. */
export function callBootstrap(server: string, rootsPem: string, token: string, csrDer: Buffer, opts: CallOptions = {}): Promise<SvidResponse__Output> {
  return call<SvidResponse__Output>(
    server,
    credentials(server, { rootsPem }),
    'Bootstrap',
    (c, o, done) => c.Bootstrap({ token, csr: csrDer }, new grpc.Metadata(), o, done),
    opts,
  );
}

/** Renew over mTLS: the current key and chain authenticate us; the server is verified against the bundle. */
export function callRenew(
  server: string,
  current: { keyPem: string; certChainPem: string; bundlePem: string },
  csrDer: Buffer,
  opts: CallOptions = {},
): Promise<SvidResponse__Output> {
  return call<SvidResponse__Output>(
    server,
    credentials(server, { rootsPem: current.bundlePem }, current),
    'Renew',
    (c, o, done) => c.Renew({ csr: csrDer }, new grpc.Metadata(), o, done),
    opts,
  );
}

/** The revocation log after `after`, over mTLS with the current SVID (a page; ask again while `more`). */
export function callGetRevocations(
  server: string,
  current: { keyPem: string; certChainPem: string; bundlePem: string },
  after: number,
  opts: CallOptions = {},
): Promise<Revocations__Output> {
  return call<Revocations__Output>(
    server,
    credentials(server, { rootsPem: current.bundlePem }, current),
    'GetRevocations',
    (c, o, done) => c.GetRevocations({ after }, new grpc.Metadata(), o, done),
    opts,
  );
}
