/**
 * The admin gRPC client `tollgate ctl` uses: mTLS with the admin's identity files (key.pem, cert.pem,
 * bundle.pem, as `tollgate bootstrap` writes them), the gateway verified against bundle.pem.
 */
import * as grpc from '@grpc/grpc-js';
import { readIdentityFiles } from '../../agent-bootstrap/files.js';
import { grpcTls } from '../../protocol/grpc-tls.js';
import { adminClientConstructor, type AdminRequest, type AdminResponse, type AdminStreamMethod, type AdminUnaryMethod } from '../../protocol/admin.js';
import { CtlError } from './io.js';

export interface ConnectOptions {
  /** HOST:PORT of the control listener */
  server: string;
  certDir: string;
  /** TLS name to verify the gateway certificate against (default: the host of --server) */
  serverName?: string;
  timeoutMs: number;
}

export interface AdminConnection {
  /** SPIFFE ID in cert.pem: who we are to the gateway */
  identity: string;
  /** one unary Admin call; method, request and answer are checked against admin.proto */
  call<M extends AdminUnaryMethod>(method: M, request: AdminRequest<M>): Promise<AdminResponse<M>>;
  stream<M extends AdminStreamMethod>(method: M, request: AdminRequest<M>): grpc.ClientReadableStream<AdminResponse<M>>;
  close(): void;
}

export async function connectAdmin(opts: ConnectOptions): Promise<AdminConnection> {
  let material;
  try {
    material = await readIdentityFiles(opts.certDir);
  } catch (e) {
    throw new CtlError('failed', `${(e as Error).message} (--cert-dir must hold the admin's key.pem, cert.pem and bundle.pem)`, { cause: e });
  }
  const tls = grpcTls(opts.server, opts.serverName || undefined);
  const creds = grpc.credentials.createSsl(Buffer.from(material.bundlePem), Buffer.from(material.keyPem), Buffer.from(material.certChainPem), {
    checkServerIdentity: tls.checkServerIdentity,
  });
  const Client = adminClientConstructor();
  const client = new Client(opts.server, creds, tls.options);
  const deadline = () => new Date(Date.now() + opts.timeoutMs);
  return {
    identity: material.spiffeId,
    // Calls by method name: TypeScript cannot pick one overload of the generated client for a name it only
    // knows as a union, so the lookup is cast here, once; the signatures above keep callers checked.
    call<M extends AdminUnaryMethod>(method: M, request: AdminRequest<M>) {
      const fn = client[method] as unknown as (
        req: AdminRequest<M>,
        options: grpc.CallOptions,
        cb: grpc.requestCallback<AdminResponse<M>>,
      ) => grpc.ClientUnaryCall;
      return new Promise<AdminResponse<M>>((resolve, reject) => {
        fn.call(client, request, { deadline: deadline() }, (err, res) => (err ? reject(err) : resolve(res as AdminResponse<M>)));
      });
    },
    stream<M extends AdminStreamMethod>(method: M, request: AdminRequest<M>) {
      const fn = client[method] as unknown as (req: AdminRequest<M>, options: grpc.CallOptions) => grpc.ClientReadableStream<AdminResponse<M>>;
      return fn.call(client, request, {});
    },
    close() {
      client.close();
    },
  };
}
