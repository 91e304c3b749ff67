/**
 * A map that remembers use order, with O(1) get/set/touch/delete and oldest-first walks.
 *
 * Why not a plain Map with delete-and-reinsert: V8 leaves a hole per delete until it rehashes, and walking
 * from the oldest end (to evict) steps over every hole — measured at a third of the stage's CPU under churn.
 * Here order lives in a doubly linked list, so walks start at the real oldest entry.
 */
interface Node<K, V> {
  key: K;
  value: V;
  prev: Node<K, V> | undefined;
  next: Node<K, V> | undefined;
}

export class Lru<K, V> {
  private map = new Map<K, Node<K, V>>();
  /** least recently used */
  private head: Node<K, V> | undefined;
  /** most recently used */
  private tail: Node<K, V> | undefined;

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key)?.value;
  }

  /** Insert or replace, as the most recently used. */
  set(key: K, value: V): void {
    const n = this.map.get(key);
    if (n) {
      n.value = value;
      this.moveToTail(n);
      return;
    }
    const node: Node<K, V> = { key, value, prev: this.tail, next: undefined };
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
    this.map.set(key, node);
  }

  /** Mark as most recently used. */
  touch(key: K): void {
    const n = this.map.get(key);
    if (n) this.moveToTail(n);
  }

  delete(key: K): boolean {
    const n = this.map.get(key);
    if (!n) return false;
    this.unlink(n);
    this.map.delete(key);
    return true;
  }

  /** Remove and return the least recently used value. */
  shift(): V | undefined {
    const n = this.head;
    if (!n) return undefined;
    this.unlink(n);
    this.map.delete(n.key);
    return n.value;
  }

  /** Walk oldest first; stop when fn returns true (anything else goes on). fn may delete the entry it is given. */
  walkOldest(fn: (value: V, key: K) => unknown): void {
    let n = this.head;
    while (n) {
      const next = n.next;
      if (fn(n.value, n.key) === true) return;
      n = next;
    }
  }

  /** Up to `n` values, oldest first, into `out` (cleared first; reused by callers on the request path: no allocation). */
  oldest(n: number, out: V[]): V[] {
    out.length = 0;
    for (let node = this.head; node !== undefined && out.length < n; node = node.next) out.push(node.value);
    return out;
  }

  /** Values, oldest first. */
  values(): V[] {
    const out: V[] = [];
    for (let n = this.head; n; n = n.next) out.push(n.value);
    return out;
  }

  private moveToTail(n: Node<K, V>): void {
    if (this.tail === n) return;
    this.unlink(n);
    n.prev = this.tail;
    n.next = undefined;
    if (this.tail) this.tail.next = n;
    else this.head = n;
    this.tail = n;
  }

  private unlink(n: Node<K, V>): void {
    if (n.prev) n.prev.next = n.next;
    else this.head = n.next;
    if (n.next) n.next.prev = n.prev;
    else this.tail = n.prev;
    n.prev = undefined;
    n.next = undefined;
  }
}

/** The use-order links a LinkedLru keeps in its values themselves (no node object per entry). */
export interface LruLinks<V> {
  /** the next older / newer value while in a LinkedLru; both undefined once removed */
  lruOlder?: V | undefined;
  lruNewer?: V | undefined;
}

/**
 * Lru for values that carry their own links (LruLinks): the same use order, walks and O(1) operations,
 * without a node object per entry, and a value can be touched without a map lookup.
 *
 * Why: the task registry and the call trees insert one entry per new root task and keep thousands; under
 * a load where every call starts a task, each entry's node was one more object to copy in every scavenge
 * and to promote (the gateway profile showed the delegation stage's retained state as GC, not as code).
 * A value belongs to at most one LinkedLru.
 */
export class LinkedLru<K, V extends LruLinks<V>> {
  private map = new Map<K, V>();
  /** least recently used */
  private head: V | undefined;
  /** most recently used */
  private tail: V | undefined;

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  /** Insert as the most recently used (a value already under `key` is replaced and unlinked). */
  set(key: K, value: V): void {
    const old = this.map.get(key);
    if (old !== undefined && old !== value) this.unlink(old);
    else if (old === value) {
      this.moveToTail(value);
      return;
    }
    value.lruOlder = this.tail;
    value.lruNewer = undefined;
    if (this.tail) this.tail.lruNewer = value;
    else this.head = value;
    this.tail = value;
    this.map.set(key, value);
  }

  /**
   * Insert a value whose key is not here (a fresh root task id), as the most recently used: one map
   * operation instead of set()'s lookup and insert. Should the key be here after all, the value it
   * displaced is found and unlinked (a walk, on a path that fresh 128-bit ids never take).
   */
  add(key: K, value: V, keyOf: (v: V) => K): void {
    const before = this.map.size;
    this.map.set(key, value);
    if (this.map.size === before) {
      for (let v = this.head; v !== undefined; v = v.lruNewer) {
        if (v !== value && keyOf(v) === key) {
          this.unlink(v);
          break;
        }
      }
      if (this.has(value)) {
        this.moveToTail(value);
        return;
      }
    }
    value.lruOlder = this.tail;
    value.lruNewer = undefined;
    if (this.tail) this.tail.lruNewer = value;
    else this.head = value;
    this.tail = value;
  }

  /** Whether this value is (still) linked here: false once deleted, evicted or shifted. */
  has(value: V): boolean {
    return value.lruOlder !== undefined || this.head === value;
  }

  /** Mark as most recently used; a value no longer here is left alone. */
  touch(value: V): void {
    if (this.has(value)) this.moveToTail(value);
  }

  delete(key: K): boolean {
    const v = this.map.get(key);
    if (v === undefined) return false;
    this.unlink(v);
    this.map.delete(key);
    return true;
  }

  /** Remove and return the least recently used value; `keyOf` names its key. */
  shift(keyOf: (v: V) => K): V | undefined {
    const v = this.head;
    if (v === undefined) return undefined;
    this.unlink(v);
    this.map.delete(keyOf(v));
    return v;
  }

  /** The least recently used value (not removed). */
  oldestValue(): V | undefined {
    return this.head;
  }

  /** Walk oldest first; stop when fn returns true. fn may delete the value it is given. */
  walkOldest(fn: (value: V) => unknown): void {
    let v = this.head;
    while (v !== undefined) {
      const next = v.lruNewer;
      if (fn(v) === true) return;
      v = next;
    }
  }

  /** Up to `n` values, oldest first, into `out` (cleared first; no allocation on the request path). */
  oldest(n: number, out: V[]): V[] {
    out.length = 0;
    for (let v = this.head; v !== undefined && out.length < n; v = v.lruNewer) out.push(v);
    return out;
  }

  /** Values, oldest first. */
  values(): V[] {
    const out: V[] = [];
    for (let v = this.head; v !== undefined; v = v.lruNewer) out.push(v);
    return out;
  }

  private moveToTail(v: V): void {
    if (this.tail === v) return;
    this.unlink(v);
    v.lruOlder = this.tail;
    if (this.tail) this.tail.lruNewer = v;
    else this.head = v;
    this.tail = v;
  }

  private unlink(v: V): void {
    if (v.lruOlder) v.lruOlder.lruNewer = v.lruNewer;
    else this.head = v.lruNewer;
    if (v.lruNewer) v.lruNewer.lruOlder = v.lruOlder;
    else this.tail = v.lruOlder;
    v.lruOlder = undefined;
    v.lruNewer = undefined;
  }
}
