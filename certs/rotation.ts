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
  return cert.notBefore + life * (0.5 - jitter * random());
}

export function shouldRotate(now: number, cert: Validity, random: () => number = Math.random, jitter = 0.1): boolean {
  return now >= rotateAt(cert, random, jitter);
}
