/**
 * The fast path of parseJsonRpc: validate a request body as strict JSON (RFC 8259, the grammar of
 * JSON.parse) byte by byte without building it, and note the top-level `jsonrpc`, `method` and `id`.
 *
 * Why: on the gateway's request path JSON.parse of a ~200-byte A2A body was the largest governed item in
 * CPU profiles, mostly for the objects it builds and the garbage they become; this reads the three
 * fields the gateway needs and allocates nothing but the method string.
 *
 * It answers only when its answer is JSON.parse's by construction, and returns undefined otherwise, so the
 * caller falls back to JSON.parse: on any syntax error (JSON.parse then decides), a top-level value that is
 * not an object, a key (at any depth) or one of the three values written with a backslash escape, or nesting
 * deeper than MAX_DEPTH. Equivalence with JSON.parse of the UTF-8 decoded body holds byte-wise because
 * every byte JSON's grammar cares about is ASCII, and UTF-8 (valid or not) never produces an ASCII
 * character from a non-ASCII byte. test/proxy/jsonrpc-scan.test.ts compares the two on mutated bodies.
 * Duplicate keys: the last one wins, as in JSON.parse.
 */
export interface ScannedField {
  kind: 'string' | 'number' | 'other';
  /** the value's bytes [start, end) (for a string, without the quotes) */
  start: number;
  end: number;
}

export interface ScannedRpc {
  jsonrpc: ScannedField | undefined;
  method: ScannedField | undefined;
  id: ScannedField | undefined;
  /**
   * Some key, at any depth, is taskId, task_id, contextId or context_id (keys written with an escape make the
   * scan bail, so this is exact). False: no object in the body can name an A2A task or context, and task
   * ownership reads nothing (proxy/stages/tasks.ts).
   */
  namesTask: boolean;
}

const MAX_DEPTH = 64;
/** outcome codes of the scanning functions (otherwise the index after what they read) */
const INVALID = -1;
const BAIL = -2;

// per-scan scratch (synchronous, never re-entered)
let buf: Uint8Array = new Uint8Array(0);
let len = 0;
/** whether the last string read had a backslash escape */
let escaped = false;
/** a key naming a task or context was read (see ScannedRpc.namesTask) */
let taskKey = false;

function ws(i: number): number {
  while (i < len) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** buf[i] is '"'; returns the index after the closing quote */
function str(i: number): number {
  escaped = false;
  for (let j = i + 1; j < len; j++) {
    const c = buf[j];
    if (c === 0x22) return j + 1;
    if (c < 0x20) return INVALID;
    if (c === 0x5c) {
      escaped = true;
      const e = buf[++j];
      if (e === 0x75) {
        if (j + 4 >= len || !isHex(buf[j + 1]) || !isHex(buf[j + 2]) || !isHex(buf[j + 3]) || !isHex(buf[j + 4])) return INVALID;
        j += 4;
      } else if (e !== 0x22 && e !== 0x5c && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) {
        return INVALID;
      }
    }
  }
  return INVALID;
}

function digits(i: number): number {
  const from = i;
  while (i < len && buf[i] >= 0x30 && buf[i] <= 0x39) i++;
  return i === from ? INVALID : i;
}

/** -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
function num(i: number): number {
  if (buf[i] === 0x2d) i++;
  if (buf[i] === 0x30) i++;
  else if (buf[i] >= 0x31 && buf[i] <= 0x39) i = digits(i);
  else return INVALID;
  if (buf[i] === 0x2e) {
    i = digits(i + 1);
    if (i < 0) return INVALID;
  }
  if (buf[i] === 0x65 || buf[i] === 0x45) {
    i++;
    if (buf[i] === 0x2b || buf[i] === 0x2d) i++;
    i = digits(i);
  }
  return i;
}

function word(i: number, w: readonly number[]): number {
  for (let k = 0; k < w.length; k++) if (buf[i + k] !== w[k]) return INVALID;
  return i + w.length;
}
const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];

function value(i: number, depth: number): number {
  const c = buf[i];
  if (c === 0x22) return str(i);
  if (c === 0x7b) return obj(i, depth + 1, undefined);
  if (c === 0x5b) return arr(i, depth + 1);
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return num(i);
  if (c === 0x74) return word(i, TRUE);
  if (c === 0x66) return word(i, FALSE);
  if (c === 0x6e) return word(i, NULL);
  return INVALID;
}

function arr(i: number, depth: number): number {
  if (depth > MAX_DEPTH) return BAIL;
  i = ws(i + 1);
  if (buf[i] === 0x5d) return i + 1;
  for (;;) {
    i = value(i, depth);
    if (i < 0) return i;
    i = ws(i);
    if (buf[i] === 0x5d) return i + 1;
    if (buf[i] !== 0x2c) return INVALID;
    i = ws(i + 1);
  }
}

/** Which of the three keys buf[s, e) spells, if any. */
function topKey(s: number, e: number): 'jsonrpc' | 'method' | 'id' | undefined {
  const n = e - s;
  if (n === 2 && buf[s] === 0x69 && buf[s + 1] === 0x64) return 'id';
  if (n === 6 && word(s, METHOD) === e) return 'method';
  if (n === 7 && word(s, JSONRPC) === e) return 'jsonrpc';
  return undefined;
}
const METHOD = [0x6d, 0x65, 0x74, 0x68, 0x6f, 0x64];
const JSONRPC = [0x6a, 0x73, 0x6f, 0x6e, 0x72, 0x70, 0x63];

/** Does buf[s, e) spell taskId, task_id, contextId or context_id? (a length test first: most keys fail it) */
function isTaskKey(s: number, e: number): boolean {
  switch (e - s) {
    case 6:
      return word(s, TASK_ID) === e;
    case 7:
      return word(s, TASK_ID_SNAKE) === e;
    case 9:
      return word(s, CONTEXT_ID) === e;
    case 10:
      return word(s, CONTEXT_ID_SNAKE) === e;
    default:
      return false;
  }
}
const bytes = (w: string) => [...Buffer.from(w, 'latin1')];
const TASK_ID = bytes('taskId');
const TASK_ID_SNAKE = bytes('task_id');
const CONTEXT_ID = bytes('contextId');
const CONTEXT_ID_SNAKE = bytes('context_id');

/** buf[i] is '{'; `top` collects the three fields of the top-level object */
function obj(i: number, depth: number, top: ScannedRpc | undefined): number {
  if (depth > MAX_DEPTH) return BAIL;
  i = ws(i + 1);
  if (buf[i] === 0x7d) return i + 1;
  for (;;) {
    if (buf[i] !== 0x22) return INVALID;
    const keyStart = i + 1;
    const afterKey = str(i);
    if (afterKey < 0) return afterKey;
    // "\u006dethod" is "method" to JSON.parse, "t\u0061skId" is "taskId": an escaped key (rare) goes to JSON.parse
    if (escaped) return BAIL;
    if (isTaskKey(keyStart, afterKey - 1)) taskKey = true;
    const key = top === undefined ? undefined : topKey(keyStart, afterKey - 1);
    i = ws(afterKey);
    if (buf[i] !== 0x3a) return INVALID;
    i = ws(i + 1);
    const vStart = i;
    const c = buf[i];
    i = value(i, depth);
    if (i < 0) return i;
    if (key !== undefined) {
      if (c === 0x22) {
        if (escaped) return BAIL;
        top![key] = { kind: 'string', start: vStart + 1, end: i - 1 };
      } else {
        top![key] = { kind: c === 0x2d || (c >= 0x30 && c <= 0x39) ? 'number' : 'other', start: vStart, end: i };
      }
    }
    i = ws(i);
    if (buf[i] === 0x7d) return i + 1;
    if (buf[i] !== 0x2c) return INVALID;
    i = ws(i + 1);
  }
}

/** The top-level fields of a body that is one strict-JSON object, or undefined (use JSON.parse). */
export function scanJsonRpc(body: Uint8Array): ScannedRpc | undefined {
  buf = body;
  len = body.length;
  try {
    const top: ScannedRpc = { jsonrpc: undefined, method: undefined, id: undefined, namesTask: false };
    taskKey = false;
    let i = ws(0);
    if (buf[i] !== 0x7b) return undefined;
    i = obj(i, 1, top);
    if (i < 0 || ws(i) !== len) return undefined;
    top.namesTask = taskKey;
    return top;
  } finally {
    buf = EMPTY; // do not keep the body alive
  }
}
const EMPTY = new Uint8Array(0);
