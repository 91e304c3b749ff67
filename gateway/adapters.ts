/**
 * Small adapters the composition root hands from one part to another: they translate events of the CA and
 * the delegation core into metrics, log lines and `ctl watch` events. Kept here so gateway/tollgate.ts stays
 * a list of steps.
 */
import type { CaEvents } from '../ca/api.js';
import type { EventBus } from '../control/admin/index.js';
import type { GatewayLog } from '../control/gateway-identity.js';
import type { DelegationMetrics } from '../governance/delegation/index.js';
import type { GatewayMetrics } from '../proxy/index.js';

/** CA events: counted, logged when the database goes or comes back, and published when someone watches. */
export function caEvents(
  metrics: GatewayMetrics,
  events: EventBus,
  log: GatewayLog,
  now: () => number,
  onStoreSync: (ok: boolean, at: number, err?: unknown) => void,
): CaEvents {
  const counted = metrics.caEvents();
  return {
    onIssued: (kind) => {
      counted.onIssued?.(kind);
      if (events.subscribers > 0) events.publish({ time: now(), kind: 'issuance', actor: 'ca', summary: `issued a ${kind} certificate` });
    },
    onSigningFailure: (err) => counted.onSigningFailure?.(err),
    onStoreLost: (err) => {
      counted.onStoreLost?.(err);
      log.error({ err }, 'CA database lost: issuing and revoking stopped');
    },
    onStoreRestored: () => {
      counted.onStoreRestored?.();
      log.info({}, 'CA database back at its path: issuing resumed');
    },
    onStoreSync,
  };
}

/**
 * Background syncs with the store (the CA's revocation poll, the settings poll): a gauge per sync, and a
 * log line when the store goes away or comes back (not one per failed poll).
 */
export function storeSyncReporter(metrics: GatewayMetrics, log: GatewayLog): (ok: boolean, at: number, err?: unknown) => void {
  let down = false;
  return (ok, at, err) => {
    metrics.storeSync(ok, at);
    if (!ok && !down)
      log.error({ err }, 'store unreachable: proxying continues with the revocations, policy and keys held; issuance and admin writes fail until it is back');
    if (ok && down) log.info({}, 'store reachable again');
    down = !ok;
  };
}

/** The delegation core's outcomes as Prometheus series. */
export function delegationMetrics(metrics: GatewayMetrics): DelegationMetrics {
  return {
    refusal: (caller, callee, reason) => metrics.delegationRefusals.labels(caller, callee, reason).inc(),
    loopCut: (caller, callee) => metrics.loopsCut.labels(caller, callee).inc(),
    cycles: (n) => metrics.callGraphCycles.set(n),
    budgetExhausted: (scope, budget) => metrics.budgetExhausted.labels(scope, budget).inc(),
    cost: (agent, amount) => metrics.costTotal.labels(agent).inc(amount),
  };
}
