import { describe, expect, it } from 'vitest';
import { connectionCaps, readOpenFileLimit } from '../../config/fd-budget.js';
import { parseConfig } from '../../config/load.js';

describe('connection caps within the open-file limit', () => {
  const limits = (soft: string) =>
    `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${soft}                 1048576              files\n`;

  it('reads the soft open-file limit from /proc/self/limits text; "unlimited" or no line means no limit', () => {
    expect(readOpenFileLimit(limits('1024'))).toBe(1024);
    expect(readOpenFileLimit(limits('unlimited'))).toBeUndefined();
    expect(readOpenFileLimit('Max processes 100 100 processes\n')).toBeUndefined();
  });

  it('lowers the configured caps to 1/2 (proxy) and 1/8 (unauthenticated control) of the limit, never to 0', () => {
    const config = parseConfig({});
    expect(connectionCaps(config, 1024)).toEqual({ proxy: 512, controlUnauthenticated: 128 });
    expect(connectionCaps(config, 256)).toEqual({ proxy: 128, controlUnauthenticated: 32 });
    expect(connectionCaps(config, 4)).toEqual({ proxy: 2, controlUnauthenticated: 1 });
    expect(connectionCaps(config, undefined)).toEqual({ proxy: 4096, controlUnauthenticated: 128 });
    expect(connectionCaps(parseConfig({ connections: { proxy: 100, controlUnauthenticated: 10 } }), 20_000)).toEqual({
      proxy: 100,
      controlUnauthenticated: 10,
    });
  });

  it('refuses timeouts that would switch the protection off', () => {
    expect(() => parseConfig({ timeouts: { handshake: 0 } })).toThrow(/timeouts\.handshake.*longer than 0/s);
    expect(() => parseConfig({ timeouts: { controlUnauthenticated: '0s' } })).toThrow(/longer than 0/);
    expect(() => parseConfig({ connections: { controlUnauthenticated: 0 } })).toThrow(/connections\.controlUnauthenticated/);
  });
});
