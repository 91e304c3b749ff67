/** Intermediate rotation driven by an injected clock, and the SVID lifetime cap. */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { validateSvid } from '../../certs/svid.js';
import type { Authority } from '../../ca/authority.js';
import { HOUR, TD, chainDer, closeAll, makeCsr, manualClock, open, tempDir } from './helpers.js';

afterAll(closeAll);

const ID = `spiffe://${TD}/agent/writer`;

async function issue(ca: Authority) {
  const { token } = await ca.createJoinToken(ID);
  return ca.bootstrap(token, (await makeCsr()).der);
}

function validAt(ca: Authority, chainPem: string, now: number) {
  return validateSvid({ chain: chainDer(chainPem), bundle: ca.bundleDer(), now, trustDomain: TD, usage: 'client', skewMs: 0 });
}

const issuerOf = (chainPem: string) => new X509Certificate(chainDer(chainPem)[1]).fingerprint256;

describe('intermediate rotation', () => {
  it('rotates with 2 SVID lifetimes left; old SVIDs still validate, new ones chain to the new intermediate', async () => {
    const clock = manualClock();
    const t0 = clock.now();
    const dataDir = tempDir();
    const kinds: string[] = [];
    const ca = await open({ dataDir, now: clock.now, intermediateTtlMs: 6 * HOUR, svidTtlMs: HOUR, events: { onIssued: (k) => kinds.push(k) } });
    expect(kinds).toEqual(['root', 'intermediate']);
    const firstEnd = ca.intermediateNotAfter();
    expect(firstEnd).toBeLessThanOrEqual(t0 + 6 * HOUR);
    expect(firstEnd).toBeGreaterThan(t0 + 6 * HOUR - 2000);

    clock.set(t0 + 3.5 * HOUR);
    const old = await issue(ca);
    expect(ca.intermediateNotAfter()).toBe(firstEnd); // not yet: 2.5 h > 2 × 1 h and > 1/3 of 6 h
    expect(await ca.rotateIfNeeded()).toBe(false);

    clock.set(t0 + 4 * HOUR + 60_000);
    const fresh = await issue(ca); // rotation happens on the issuance path
    expect(kinds).toEqual(['root', 'intermediate', 'svid', 'intermediate', 'svid']);
    expect(ca.intermediateNotAfter()).toBeGreaterThan(firstEnd);
    expect(issuerOf(fresh.certChainPem)).not.toBe(issuerOf(old.certChainPem));
    expect(old.certChainPem).not.toContain(chainDer(fresh.certChainPem)[1].toString('base64').slice(0, 64));

    // both validate against the same bundle at this moment, each through the intermediate it ships
    expect(validAt(ca, old.certChainPem, clock.now()).serial).toBe(old.serial);
    expect(validAt(ca, fresh.certChainPem, clock.now()).serial).toBe(fresh.serial);
    // the old SVID never outlives its intermediate
    expect(old.notAfter).toBeLessThanOrEqual(firstEnd);

    expect(await ca.rotateIfNeeded()).toBe(false);
    expect(fs.readdirSync(path.join(dataDir, 'intermediates'))).toHaveLength(2);

    // once the first intermediate has expired, its file is removed at the next rotation
    clock.set(t0 + 9 * HOUR);
    expect(await ca.rotateIfNeeded()).toBe(true);
    const files = fs.readdirSync(path.join(dataDir, 'intermediates'));
    expect(files).toHaveLength(2);
    expect(validAt(ca, (await issue(ca)).certChainPem, clock.now()).id.uri).toBe(ID);
  });

  it('an instance sharing the data directory adopts the intermediate another one rotated to', async () => {
    const clock = manualClock();
    const dataDir = tempDir();
    const opts = { dataDir, now: clock.now, intermediateTtlMs: 6 * HOUR, svidTtlMs: HOUR };
    const a = await open(opts);
    const b = await open(opts);
    expect(b.intermediateNotAfter()).toBe(a.intermediateNotAfter());
    clock.advance(4.5 * HOUR);
    expect(await a.rotateIfNeeded()).toBe(true);
    expect(await b.rotateIfNeeded()).toBe(true);
    expect(b.intermediateNotAfter()).toBe(a.intermediateNotAfter());
    expect(fs.readdirSync(path.join(dataDir, 'intermediates'))).toHaveLength(2);
    expect(issuerOf((await issue(b)).certChainPem)).toBe(issuerOf((await issue(a)).certChainPem));
  });

  it('SVID lifetime is capped at the signing intermediate (near the end of the root)', async () => {
    const clock = manualClock();
    const t0 = clock.now();
    const ca = await open({ now: clock.now, rootTtlMs: 7 * HOUR, intermediateTtlMs: 6 * HOUR, svidTtlMs: HOUR });
    clock.set(t0 + 4 * HOUR);
    expect(await ca.rotateIfNeeded()).toBe(true);
    const end = ca.intermediateNotAfter();
    expect(end).toBeLessThanOrEqual(t0 + 7 * HOUR); // capped by the root

    clock.set(t0 + 6.5 * HOUR);
    expect(await ca.rotateIfNeeded()).toBe(false); // a new one could not outlive it
    const svid = await issue(ca);
    expect(svid.notAfter).toBe(end);
    expect(svid.notAfter - clock.now()).toBeLessThan(HOUR);
    const leaf = new X509Certificate(chainDer(svid.certChainPem)[0]);
    expect(Date.parse(leaf.validTo)).toBe(end);
    expect(validAt(ca, svid.certChainPem, end - 1000).id.uri).toBe(ID);
  });
});
