import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { parseJsonRpc, parseSlow } from '../../proxy/a2a/methods.js';
import { scanJsonRpc } from '../../proxy/a2a/scan.js';

/**
 * The scanner (a2a/scan.ts) must never disagree with JSON.parse: wherever it answers, parseJsonRpc's
 * answer equals the JSON.parse path's; wherever JSON.parse refuses a body, the scanner does not answer.
 */
const SEED_BODIES = [
  '{"jsonrpc":"2.0","id":1,"method":"message/send","params":{"message":{"kind":"message","role":"user","messageId":"6f1e0b52","parts":[{"kind":"text","text":"hello"}]}}}',
  '{"jsonrpc":"2.0","id":"req-7","method":"tasks/get","params":{"id":"t1","historyLength":-1.5e+3}}',
  ' \n{ "method" : "SendMessage", "params": [1, 2.0, -0, 3e-2, true, false, null, {"a":[[]]}], "jsonrpc": "2.0", "id": null }\t',
  '{"jsonrpc":"2.0","method":"message/stream","params":{"text":"quote \\" backslash \\\\ slash \\/ \\u00e9 \\n","nested":{"method":"tasks/cancel"}},"id":0}',
  '{"jsonrpc":"2.0","id":1,"method":"message/send","method":"tasks/cancel"}',
  '{"jsonrpc":"2.0","id":1,"params":{},"method":"message/send","params":"é ü 中文 😀"}',
];

/** Characters that matter to JSON's grammar, plus a few that must be refused. */
const ALPHABET = [
  '{',
  '}',
  '[',
  ']',
  '"',
  ':',
  ',',
  '\\',
  'u',
  '0',
  '1',
  '9',
  '-',
  '+',
  '.',
  'e',
  'E',
  't',
  'r',
  'f',
  'n',
  'l',
  ' ',
  '\n',
  '\t',
  '\u0000',
  '\u001f',
  'é',
  '\u00ff',
  'method',
  '"method"',
  '"id"',
  '"jsonrpc"',
  '"2.0"',
  '\\u006d',
];

function mutate(s: string, rnd: () => number): string {
  let out = s;
  const n = 1 + Math.floor(rnd() * 3);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(rnd() * (out.length + 1));
    const op = rnd();
    const piece = ALPHABET[Math.floor(rnd() * ALPHABET.length)];
    if (op < 0.4) out = out.slice(0, at) + piece + out.slice(at);
    else if (op < 0.7) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(rnd() * 3));
    else out = out.slice(0, at) + piece + out.slice(at + piece.length);
  }
  return out;
}

function seeded(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

describe('JSON-RPC body scanner', () => {
  it('answers for ordinary A2A bodies (the fast path is taken) and agrees with JSON.parse on them', () => {
    for (const s of SEED_BODIES) {
      const b = Buffer.from(s);
      expect(scanJsonRpc(b), s).toBeDefined();
      expect(parseJsonRpc(b), s).toEqual(parseSlow(b));
    }
    expect(parseJsonRpc(Buffer.from(SEED_BODIES[4]))).toMatchObject({ kind: 'jsonrpc', call: { method: 'CancelTask', id: 1 } }); // last key wins
    expect(parseJsonRpc(Buffer.from(SEED_BODIES[3]))).toMatchObject({ kind: 'jsonrpc', call: { method: 'SendStreamingMessage', id: 0 } }); // nested "method" ignored
  });

  it('leaves escaped top-level keys and values, non-objects, too deep nesting and syntax errors to JSON.parse', () => {
    for (const s of [
      '{"jsonrpc":"2.0","id":1,"\\u006dethod":"tasks/cancel"}',
      '{"jsonrpc":"2.0","id":1,"method":"tasks\\/cancel"}',
      '{"jsonrpc":"2\\u002e0","id":1,"method":"tasks/cancel"}',
      '[{"jsonrpc":"2.0","id":1,"method":"message/send"}]',
      '"message/send"',
      `{"jsonrpc":"2.0","id":1,"method":"message/send","p":${'['.repeat(100)}${']'.repeat(100)}}`,
      '{"jsonrpc":"2.0","id":1,"method":"message/send",}',
      '{"jsonrpc":"2.0","id":01,"method":"message/send"}',
      '\ufeff{"jsonrpc":"2.0","id":1,"method":"message/send"}',
      '{"jsonrpc":"2.0","id":1,"method":"message/send"} x',
      '{"jsonrpc":"2.0","id":1,"method":"message/send" /* "method":"tasks/cancel" */}',
    ]) {
      const b = Buffer.from(s);
      expect(scanJsonRpc(b), s).toBeUndefined();
      expect(parseJsonRpc(b), s).toEqual(parseSlow(b));
    }
  });

  it('never disagrees with JSON.parse on 30,000 mutated bodies and 2,000 random byte strings', () => {
    const rnd = seeded(20261125);
    let answered = 0;
    for (let i = 0; i < 30_000; i++) {
      const s = mutate(SEED_BODIES[i % SEED_BODIES.length], rnd);
      const b = Buffer.from(s);
      let valid = true;
      try {
        JSON.parse(b.toString('utf8'));
      } catch {
        valid = false;
      }
      const scanned = scanJsonRpc(b);
      if (!valid) expect(scanned, s).toBeUndefined();
      if (scanned !== undefined) answered++;
      expect(parseJsonRpc(b), s).toEqual(parseSlow(b));
    }
    expect(answered).toBeGreaterThan(1000); // the comparison exercised the fast path, not only the fallback
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.concat([Buffer.from('{"jsonrpc":"2.0","method":"'), randomBytes(1 + (i % 40)), Buffer.from('","id":1}')]);
      expect(parseJsonRpc(b)).toEqual(parseSlow(b));
    }
  });
});
