// Core's guarantee suite on the local GCP stack (one stack for the file, a fresh deployment per
// test), pull invocation: the writer and distributor run by in-process pollers on ordered pull
// subscriptions; node records in Datastore. Errors, multi, containers and TTLs, sessions and
// pipelining; the other areas are in guarantees-pull-1.
import { guaranteeAreas } from '@faaskeeper/core/testkit';
import { localGcpTarget } from '../src/index.js';
import { whenEmulators } from './support.js';

whenEmulators((stack) => {
  const target = localGcpTarget(stack, { invocation: 'pull', userStore: 'datastore' });
  for (const area of ['errors', 'multi', 'containers-ttl', 'sessions', 'pipelining'] as const)
    guaranteeAreas[area](target);
});
