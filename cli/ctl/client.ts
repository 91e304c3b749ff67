/**
 * The admin gRPC client `tollgate ctl` uses: mTLS with the admin's identity files (key.pem, cert.pem,
 * bundle.pem, as `tollgate bootstrap` writes them), the gateway verified against bundle.pem.
 */
import * as grpc from '@grpc/grpc-js';
import { readIdentityFiles } from '../../agent-bootstrap/files.js';
import { adminClientConstructor } from '../../control/admin/proto.js';
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
  call<Res = any>(method: string, request: object): Promise<Res>;
  stream<Res = any>(method: string, request: object): grpc.ClientReadableStream<Res>;
  close(): void;
}

export async function connectAdmin(opts: ConnectOptions): Promise<AdminConnection> {
  let material;
  try {
    material = await readIdentityFiles(opts.certDir);
  } catch (e) {
    throw new CtlError('failed', `${(e as Error).message} (--cert-dir must hold the admin's key.pem, cert.pem and bundle.pem)`, { cause: e });
  }
  const creds = grpc.credentials.createSsl(Buffer.from(material.bundlePem), Buffer.from(material.keyPem), Buffer.from(material.certChainPem));
  const options: grpc.ChannelOptions = {};
  if (opts.serverName) options['grpc.ssl_target_name_override'] = opts.serverName;
  const Client = adminClientConstructor();
  const client = new Client(opts.server, creds, options);
  const deadline = () => new Date(Date.now() + opts.timeoutMs);
  return {
    identity: material.spiffeId,
    call(method, request) {
      const fn = (client as unknown as Record<string, Function>)[method];
      return new Promise((resolve, reject) => {
        fn.call(client, request, { deadline: deadline() }, (err: grpc.ServiceError | null, res: any) => (err ? reject(err) : resolve(res)));
      });
    },
    stream(method, request) {
      const fn = (client as unknown as Record<string, Function>)[method];
      return fn.call(client, request, {});
    },
    close() {
      client.close();
    },
  };
}
