/**
 * When to renew a certificate: at half of its lifetime, pulled earlier by up to `jitter` of the lifetime
 * so a fleet issued together does not renew in one burst. Pure: the clock and randomness are injected.
 */
export interface Validity {
  notBefore: number; // ms since epoch
  notAfter: number;
}

/** The moment to rotate. `random` returns [0,1); default jitter 10 % of the lifetime. */
export function rotateAt(cert: Validity, random: () => number = Math.random, jitter = 0.1): number {
  const life = cert.notAfter - cert.notBefore;
  // Clamped so a bad random source or jitter can never push renewal before issuance or past half-life.
  const r = Math.min(Math.max(random(), 0), 1);
  const j = Math.min(Math.max(jitter, 0), 0.5);
  return cert.notBefore + life * (0.5 - j * r);
}

export function shouldRotate(now: number, cert: Validity, random: () => number = Math.random, jitter = 0.1): boolean {
  return now >= rotateAt(cert, random, jitter);
}
