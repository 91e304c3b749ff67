/**
 * How a call ended, in words, and how healthy an agent or edge looks: pure functions shared by the JSON, DOT
 * and text views and the live page's data, so every view says the same thing about the same call.
 */

/** in_flight: no answer yet; ok: answered below 500; error: 5xx or no complete answer; refused: never forwarded */
export type CallOutcome = 'in_flight' | 'ok' | 'error' | 'refused';

export interface OutcomeFields {
  decision: 'allowed' | 'refused';
  /** the status the caller got (null/undefined while in flight) */
  status: number | null | undefined;
  /** upstream error kind or client_abort (null/undefined when the answer came) */
  error?: string | null;
}

export function callOutcome(c: OutcomeFields): CallOutcome {
  if (c.decision === 'refused') return 'refused';
  if (c.error) return 'error';
  if (c.status === null || c.status === undefined) return 'in_flight';
  return c.status === 0 || c.status >= 500 ? 'error' : 'ok';
}

const FAILURES: Record<string, string> = {
  refused: "nothing answers at the agent's address (connection refused)",
  reset: 'the agent closed the connection',
  timeout: 'the agent did not answer in time',
  identity: 'the agent did not present its registered identity',
  other: 'the call to the agent failed',
  client_abort: 'the caller went away before the answer',
  no_response: 'no answer',
};

/** A failed call in words: the upstream error kind, else the agent's own 5xx answer. */
export function failureText(error: string | null | undefined, status: number | null | undefined): string {
  if (error) return FAILURES[error] ?? `the call failed (${error})`;
  if (!status) return FAILURES.no_response;
  return `the agent answered ${status}`;
}

/** The kind an aggregate edge counts a failed call under (EdgeStats.errorsByKind). */
export function errorKindOf(status: number, error: string | undefined): string {
  if (error !== undefined) return error;
  return status === 0 ? 'no_response' : `http_${status}`;
}

/** Is this end of a forwarded call a failure (5xx, upstream error, no answer, caller gone)? */
export function isFailure(status: number, error: string | undefined): boolean {
  return error !== undefined || status === 0 || status >= 500;
}

export type Health = 'ok' | 'warn' | 'bad';

/**
 * Thresholds of the health colour: a share of failed calls (errors over forwarded calls, callers going away
 * not counted) or of refused attempts (refusals over calls + refusals) at or above `warn` is amber, at or above
 * `bad` red.
 */
export const HEALTH_THRESHOLDS = { error: { warn: 0.05, bad: 0.25 }, refusal: { warn: 0.1, bad: 0.5 } } as const;

export interface Rates {
  /** failed forwarded calls / forwarded calls (0 without calls) */
  errorRate: number;
  /** refused attempts / (forwarded calls + refused attempts) (0 without attempts) */
  refusalRate: number;
}

export function ratesOf(calls: number, errors: number, refusals: number, errorsByKind: Record<string, number>): Rates {
  const failed = Math.max(0, errors - (errorsByKind.client_abort ?? 0));
  return { errorRate: calls > 0 ? Math.min(1, failed / calls) : 0, refusalRate: calls + refusals > 0 ? refusals / (calls + refusals) : 0 };
}

export function healthOf(r: Rates): Health {
  const t = HEALTH_THRESHOLDS;
  if (r.errorRate >= t.error.bad || r.refusalRate >= t.refusal.bad) return 'bad';
  if (r.errorRate >= t.error.warn || r.refusalRate >= t.refusal.warn) return 'warn';
  return 'ok';
}
