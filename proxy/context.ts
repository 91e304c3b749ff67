import type { IncomingHttpHeaders } from 'node:http';
import type { AgentConfig } from '../config/schema.js';
import type { Refusal } from './errors.js';
import { RESERVED_UPSTREAM_HEADERS } from './headers.js';

/**
 * The plain per-request data every stage reads, and the slot other stages (delegation, call graph) plug
 * into. See proxy/pipeline.ts for when each hook runs.
 */
export interface RequestContext {
  /** caller SPIFFE ID (validated X.509-SVID of the TLS peer) */
  readonly callerId: string;
  /** bounded label for metrics: the agent name if the caller is a registered agent, else 'external' or 'unknown' */
  readonly callerName: string;
  /** the registry name of the caller when its ID is a registered agent's id */
  readonly callerAgent: string | undefined;
  /** callee agent name (registry key) */
  readonly callee: string;
  readonly calleeAgent: AgentConfig;
  /** canonical A2A method (v1.0 name, e.g. SendMessage) or 'unknown' */
  readonly method: string;
  /** JSON-RPC request id ('null' for REST calls and notifications) */
  readonly rpcId: string | number | null;
  /** the parsed JSON-RPC request object (undefined for REST calls); parsed on first read */
  readonly rpc: Record<string, unknown> | undefined;
  /** the request body as received (undefined when empty) */
  readonly body: Buffer | undefined;
  /** HTTP method of the call */
  readonly httpMethod: string;
  /** path + query sent to the upstream */
  readonly upstreamPath: string;
  /** request headers as received (identity headers from the caller are NOT forwarded, whatever this holds) */
  readonly headers: IncomingHttpHeaders;
  /** W3C trace id from a valid `traceparent`, else undefined */
  readonly traceId: string | undefined;
  /** injected clock (ms) when the request arrived */
  readonly startMs: number;
  /** headers the forward stage adds to the upstream request, flat [name, value, ...] */
  readonly upstreamHeaders: string[];
  /**
   * add a header to the upstream request (the name is lowercased; set it once). It replaces a header of the
   * same name sent by the caller (e.g. traceparent). Identity, framing and hop-by-hop headers are refused.
   */
  setUpstreamHeader(name: string, value: string): void;
  /** state the delegation stage keeps from beforeForward to onComplete (the pipeline never reads it) */
  delegation?: unknown;
}

/** What the upstream answered, as seen by afterResponse (when its response headers arrive). */
export interface UpstreamResponseInfo {
  status: number;
  /** get(lowercase name): the value, repeated headers joined with ", " (like Fetch Headers), or null */
  headers: { get(name: string): string | null };
  /** microseconds from request arrival to upstream response headers */
  durationUs: number;
}

/** How a forwarded call ended. */
export interface CallOutcome {
  status: number;
  durationUs: number;
  bytesOut: number;
  /** set when the upstream failed (refused|reset|timeout|identity|other) or the client went away ('client_abort') */
  error?: string;
}

export interface ExtraStages {
  /**
   * Runs after identity, route, authorize and limits, right before forwarding. Return a Refusal to answer
   * the caller instead of the callee (the callee never sees the call), or undefined to forward.
   * May add upstream headers with ctx.setUpstreamHeader (e.g. tollgate-delegation).
   */
  beforeForward?(ctx: RequestContext): Refusal | undefined | Promise<Refusal | undefined>;
  /** Runs when the upstream's response headers arrive, before they are sent on (reads e.g. tollgate-cost). */
  afterResponse?(ctx: RequestContext, res: UpstreamResponseInfo): void;
  /** Runs when a call that got as far as a RequestContext is refused by authorize, limits or beforeForward. */
  onRefused?(ctx: RequestContext, refusal: Refusal): void;
  /** Runs once when a forwarded call is over (response ended, upstream failed, or caller gone). */
  onComplete?(ctx: RequestContext, outcome: CallOutcome): void;
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The trace id of a valid W3C `traceparent` (not all zeros, version not ff). */
export function traceIdOf(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string' || header.length < 55) return undefined;
  const m = TRACEPARENT.exec(header.trim());
  if (m === null || header.startsWith('ff') || m[1] === '00000000000000000000000000000000') return undefined;
  return m[1];
}

/** One class so V8 sees a single shape on the hot path. */
const NO_HEADERS: string[] = [];

export class Ctx implements RequestContext {
  /** shared empty array until a stage adds a header (most calls add none) */
  upstreamHeaders: string[] = NO_HEADERS;
  delegation: unknown = undefined;
  constructor(
    readonly callerId: string,
    readonly callerName: string,
    readonly callerAgent: string | undefined,
    readonly callee: string,
    readonly calleeAgent: AgentConfig,
    readonly method: string,
    readonly rpcId: string | number | null,
    /** the body is a JSON-RPC request (parseJsonRpc said so) */
    private readonly isRpc: boolean,
    readonly body: Buffer | undefined,
    readonly httpMethod: string,
    readonly upstreamPath: string,
    readonly headers: IncomingHttpHeaders,
    readonly traceId: string | undefined,
    readonly startMs: number,
  ) {}

  private parsedRpc: Record<string, unknown> | undefined = undefined;
  /** the gateway reads method and id without building the body (a2a/scan.ts); a hook that wants it all parses it here, once */
  get rpc(): Record<string, unknown> | undefined {
    if (!this.isRpc || this.body === undefined) return undefined;
    return (this.parsedRpc ??= JSON.parse(this.body.toString('utf8')) as Record<string, unknown>);
  }

  setUpstreamHeader(name: string, value: string): void {
    const n = name.toLowerCase();
    // the gateway owns identity, framing and hop-by-hop headers; a stage cannot set them
    if (RESERVED_UPSTREAM_HEADERS.has(n) || n.startsWith('x-tollgate-')) throw new TypeError(`the header "${name}" is set by the gateway itself`);
    if (this.upstreamHeaders === NO_HEADERS) this.upstreamHeaders = [];
    this.upstreamHeaders.push(n, value);
  }
}
