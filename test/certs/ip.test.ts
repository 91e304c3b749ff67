/** ipFamily(): net.isIP()'s answer, for names, IPv4, IPv6 (zones, embedded IPv4, brackets) and junk alike. */
import { describe, expect, it } from 'vitest';
import { isIP } from 'node:net';
import { ipFamily } from '../../certs/ip.js';

const INPUTS = [
  '',
  'localhost',
  'example.com',
  'a.b.c.d',
  '127.0.0.1',
  '0.0.0.0',
  '255.255.255.255',
  '256.0.0.1',
  '1.2.3',
  '01.2.3.4',
  '1.2.3.4.',
  ' 1.2.3.4',
  '::',
  '::1',
  '[::1]',
  '::ffff:127.0.0.1',
  'fe80::1%eth0',
  '2001:db8::8a2e:370:7334',
  '2001:0db8:0000:0000:0000:ff00:0042:8329',
  '1:2:3:4:5:6:7:8',
  '1:2:3:4:5:6:7:8:9',
  ':',
  ':::',
  '1::2::3',
  'g::1',
  '127.0.0.1:8443',
  'localhost:8443',
  '::ffff:1.2.3',
];

describe('ipFamily', () => {
  it('answers as net.isIP does', () => {
    for (const s of INPUTS) expect([s, ipFamily(s)]).toEqual([s, isIP(s)]);
  });

  it('also on random strings over the address alphabet', () => {
    const alphabet = '0123456789abcdefABCDEFG:.%[]x ';
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 20_000; i++) {
      const s = Array.from({ length: 1 + rand(20) }, () => alphabet[rand(alphabet.length)]).join('');
      expect([s, ipFamily(s)]).toEqual([s, isIP(s)]);
    }
  });
});
