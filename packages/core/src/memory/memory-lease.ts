import { ConditionFailedError } from '../ports/errors.js';
import type { GroupLeases, LeaseKey, LeaseRenewal, LeaseRenewer } from '../ports/session-lease.js';
import { coveringGroup, type SignedRenewal } from '../session/lease.js';
import type { MemorySystemStore } from './memory-system-store.js';

/** Lease renewals on the in-memory system store: a conditional update of the session's lease item. */
export class MemoryLeaseRenewer implements LeaseRenewer {
  /** Group leases: a group's item, and member leases naming it (`session/lease.ts`). */
  readonly groups: GroupLeases;

  constructor(private readonly store: MemorySystemStore) {
    this.groups = {
      renewGroup: async (group, renewal) => {
        await store.transact([{ type: 'put', kind: 'lease', id: group.id, value: renewal, expect: 'any' }]);
      },
      join: async (lease, _group, membership) =>
        (await store.update({ kind: 'lease', id: lease.id }, membership)) ? 'renewed' : 'absent',
      leave: async (lease, group, renewal) => {
        const key = { kind: 'lease', id: lease.id } as const;
        // Read, then write on the version read: a write between the two (the session's end, a
        // resume elsewhere) fails the condition, and the lease is read again.
        for (;;) {
          const item = await store.get(key);
          if (item === undefined || coveringGroup(item.value) !== group) return 'absent';
          try {
            await store.transact([{ type: 'put', ...key, value: renewal, expect: item.version }]);
            return 'renewed';
          } catch (error) {
            if (!(error instanceof ConditionFailedError)) throw error;
          }
        }
      },
    };
  }

  async renew(lease: LeaseKey, renewal: SignedRenewal): Promise<LeaseRenewal> {
    return (await this.store.update({ kind: 'lease', id: lease.id }, renewal)) ? 'renewed' : 'absent';
  }
}
