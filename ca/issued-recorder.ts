/**
 * Group commit for issuance records. Every certificate is recorded before it is handed out, but the
 * certificates signed in one event-loop turn share one transaction: a commit (locks, WAL frame
 * writes) cost more CPU than signing a certificate, and a busy CA signs many per turn. A sequential
 * caller still gets one commit per certificate, one turn later.
 */
import type { CaStore, NewIssued } from './store/types.js';

interface Pending {
  record: NewIssued;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class IssuedRecorder {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(private readonly store: CaStore) {}

  /** Resolves once the record is committed; rejects (and the certificate must not be returned) if it is not. */
  record(record: NewIssued): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ record, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  /** Commit everything queued now (also called on close). */
  async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    try {
      await this.store.recordIssuedMany(batch.map((p) => p.record));
    } catch (e) {
      for (const p of batch) p.reject(e);
      return;
    }
    for (const p of batch) p.resolve();
  }
}
