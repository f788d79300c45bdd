import type { LeaseRenewal, LeaseRenewer } from '../ports/session-lease.js';
import type { MemorySystemStore } from './memory-system-store.js';

/** Lease renewals on the in-memory system store: a conditional update of the session's lease item. */
export class MemoryLeaseRenewer implements LeaseRenewer {
  constructor(private readonly store: MemorySystemStore) {}

  async renew(session: number, at: number): Promise<LeaseRenewal> {
    return (await this.store.update({ kind: 'lease', id: String(session) }, at)) ? 'renewed' : 'absent';
  }
}
