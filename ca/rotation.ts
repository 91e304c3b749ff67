/**
 * When to replace the online intermediate, and what lifetime the next one gets. Pure: times in, decision out.
 *
 * Overlap without a shared bundle change: the bundle is the root, and every SVID ships the intermediate
 * that signed it, so an old intermediate never has to be found elsewhere. An SVID's notAfter is capped at
 * its intermediate's notAfter, so no valid SVID ever outlives the certificate it chains through.
 * Rotating once less than 1/3 of the intermediate's life (or less than 2 SVID lifetimes) is left keeps
 * the cap from shortening ordinary SVIDs.
 *
 * Root rotation is out of scope: the root lives `rootTtl` (default 1 year); intermediates are capped at
 * the root's notAfter, and once it is near, rotation stops helping and SVIDs get shorter. An expired root
 * must be replaced by starting a new CA (new data directory) and re-bootstrapping agents.
 */
import { toSeconds } from './template.js';

export interface Window {
  notBefore: number;
  notAfter: number;
}

/** Certificates are backdated this much against clock skew between the CA and the validators. */
export const BACKDATE_MS = 60_000;

export function rotationPoint(current: Window, svidTtlMs: number): number {
  const life = current.notAfter - current.notBefore;
  return current.notAfter - Math.max(life / 3, 2 * svidTtlMs);
}

/** The validity of the next intermediate made at `now`. */
export function nextIntermediateWindow(now: number, intermediateTtlMs: number, rootNotAfter: number): Window {
  return { notBefore: toSeconds(now - BACKDATE_MS), notAfter: toSeconds(Math.min(now + intermediateTtlMs, rootNotAfter)) };
}

/**
 * Whether to make a new intermediate now. Never when the new one would not outlive the current
 * (the root's end caps both): that would only churn keys.
 */
export function shouldRotateIntermediate(now: number, current: Window | null, svidTtlMs: number, intermediateTtlMs: number, rootNotAfter: number): boolean {
  if (current === null || current.notAfter <= now) return true;
  if (now < rotationPoint(current, svidTtlMs)) return false;
  return nextIntermediateWindow(now, intermediateTtlMs, rootNotAfter).notAfter > current.notAfter;
}

/** The lifetime a new SVID gets: the configured TTL, cut at the signing intermediate's end. */
export function svidWindow(now: number, svidTtlMs: number, intermediateNotAfter: number): Window {
  return { notBefore: toSeconds(now - BACKDATE_MS), notAfter: toSeconds(Math.min(now + svidTtlMs, intermediateNotAfter)) };
}
