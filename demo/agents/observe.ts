/**
 * Seeing what the gateway answered to an SDK call. The SDK turns a refusal (403/429/508 with a JSON-RPC
 * error body) into an error carrying the JSON-RPC code, message and data, but not the HTTP status or
 * Retry-After; the observing fetch records those for the call running in `observe()`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export const COST_HEADER = 'tollgate-cost';

export interface ResponseInfo {
  status?: number;
  retryAfter?: string;
  cost?: string;
}

/** Why a call did not succeed: the gateway's refusal, or any other failure (reason 'error'). */
export interface Failure {
  status: number | undefined;
  code: number | undefined;
  /** the gateway's stable reason (data.reason), e.g. no_rule, edge, loop */
  reason: string;
  message: string;
  data: Record<string, unknown>;
  retryAfter?: string;
}

export type Outcome<T> = { ok: true; value: T; info: ResponseInfo } | { ok: false; failure: Failure; info: ResponseInfo };

const current = new AsyncLocalStorage<ResponseInfo>();

/** Wrap a fetch so observe() can read the status and headers of the response. */
export function observingFetch(inner: typeof fetch): typeof fetch {
  return async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const res = await inner(input, init);
    const info = current.getStore();
    // card lookups (GET) are not the call being observed
    if (info && (init?.method ?? 'GET') !== 'GET') {
      info.status = res.status;
      info.retryAfter = res.headers.get('retry-after') ?? undefined;
      info.cost = res.headers.get(COST_HEADER) ?? undefined;
    }
    return res;
  };
}

export function failureOf(err: unknown, info: ResponseInfo): Failure {
  const e = err as { envelopeCode?: unknown; data?: unknown; message?: unknown };
  const data = typeof e.data === 'object' && e.data !== null ? (e.data as Record<string, unknown>) : {};
  const reason = typeof data.reason === 'string' ? data.reason : 'error';
  const message = typeof e.message === 'string' ? e.message : String(err);
  return { status: info.status, code: typeof e.envelopeCode === 'number' ? e.envelopeCode : undefined, reason, message, data, retryAfter: info.retryAfter };
}

/** Run one SDK call and report how it went, with the HTTP status and headers the gateway sent. */
export async function observe<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  const info: ResponseInfo = {};
  try {
    const value = await current.run(info, fn);
    return { ok: true, value, info };
  } catch (err) {
    return { ok: false, failure: failureOf(err, info), info };
  }
}

/** "429 edge, Retry-After 1 s: <message>" */
export function describeFailure(f: Failure): string {
  const status = f.status ?? '—';
  const retry = f.retryAfter ? `, Retry-After ${f.retryAfter} s` : '';
  return `${status} ${f.reason}${retry}: ${f.message}`;
}
