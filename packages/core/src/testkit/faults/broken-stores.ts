/**
 * Deliberately broken adapters, as a randomised run's `sabotage`: the run's checks must catch
 * each, which shows they can fail on that target.
 */
import type { PortWrappers } from '../../deployment/deployment.js';
import type { UserStore } from '../../ports/user-store.js';
import { interceptPort, PORT_METHODS } from './intercept.js';

/** Deliberately broken user stores. Each call makes a fresh wrapper. */
export const brokenUserStores = {
  /** Never removes a record: tombstones of deleted nodes stay (the final-state check must see them). */
  keepsTombstones: (): PortWrappers => ({
    userStore: (inner: UserStore) =>
      interceptPort(inner, PORT_METHODS.userStore, async (method, _args, call) =>
        method === 'delete' ? undefined : call(),
      ),
  }),
  /**
   * Drops every write of the root record after bootstrap's. A run's vanished client's ephemeral
   * node alone changes the root's children, so the lost writes always show.
   */
  losesRootUpdates: (): PortWrappers => {
    let rootPuts = 0;
    return {
      userStore: (inner: UserStore) =>
        interceptPort(inner, PORT_METHODS.userStore, async (method, args, call) =>
          method === 'put' && args[0] === '/' && ++rootPuts > 1 ? undefined : call(),
        ),
    };
  },
};
