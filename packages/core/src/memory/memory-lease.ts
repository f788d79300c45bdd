import { ConditionFailedError } from '../ports/errors.js';
import type { GroupLeases, LeaseRenewal, LeaseRenewer } from '../ports/session-lease.js';
import { groupLeaseId } from '../session/lease.js';
import type { MemorySystemStore } from './memory-system-store.js';

/** Lease renewals on the in-memory system store: a conditional update of the session's lease item. */
export class MemoryLeaseRenewer implements LeaseRenewer {
  /** Group leases: a group's item, and member leases naming it (`session/lease.ts`). */
  readonly groups: GroupLeases;

  constructor(private readonly store: MemorySystemStore) {
    this.groups = {
      renewGroup: async (group, at) => {
        await store.transact([
          { type: 'put', kind: 'lease', id: groupLeaseId(group), value: at, expect: 'any' },
        ]);
      },
      join: (session, group) => this.renew(session, -group),
      leave: async (session, group, at) => {
        const key = { kind: 'lease', id: String(session) } as const;
        // Read, then write on the version read: a write between the two (the session's end, a
        // resume elsewhere) fails the condition, and the lease is read again.
        for (;;) {
          const lease = await store.get(key);
          if (lease?.value !== -group) return 'absent';
          try {
            await store.transact([{ type: 'put', ...key, value: at, expect: lease.version }]);
            return 'renewed';
          } catch (error) {
            if (!(error instanceof ConditionFailedError)) throw error;
          }
        }
      },
    };
  }

  async renew(session: number, at: number): Promise<LeaseRenewal> {
    return (await this.store.update({ kind: 'lease', id: String(session) }, at)) ? 'renewed' : 'absent';
  }
}
