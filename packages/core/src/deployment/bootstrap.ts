import { rootStat } from '../model/stat.js';
import { ConditionFailedError } from '../ports/errors.js';
import type { SystemStore } from '../ports/system-store.js';
import type { UserStore } from '../ports/user-store.js';
import type { SystemNodeItem } from '../protocol/messages.js';
import { initialWriterState, WRITER_STATE_ID } from '../writer/writer.js';

/**
 * Creates the root node and the writer's state in a fresh deployment. Idempotent: running it on a
 * bootstrapped deployment changes nothing.
 */
export async function bootstrap(systemStore: SystemStore, userStore: UserStore): Promise<void> {
  const existing = await systemStore.get({ kind: 'meta', id: WRITER_STATE_ID });
  if (existing === undefined) {
    const root: SystemNodeItem = { node: { stat: rootStat(), kind: 'persistent' } };
    try {
      await systemStore.transact([
        { type: 'put', kind: 'meta', id: WRITER_STATE_ID, value: initialWriterState(), expect: 'absent' },
        { type: 'put', kind: 'node', id: '/', value: root, expect: 'absent' },
      ]);
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error; // bootstrapped concurrently
    }
  }
  if ((await userStore.get('/')) === undefined) {
    await userStore.put('/', { data: new Uint8Array(0), stat: rootStat(), txZxid: 0 });
  }
}
