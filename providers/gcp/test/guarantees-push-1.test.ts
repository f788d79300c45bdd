// Core's guarantee suite on the local GCP stack (one stack for the file, a fresh deployment per
// test), push invocation: the functions served over HTTP by the functions framework and invoked by
// the Pub/Sub emulator's ordered push subscriptions, one message per invocation. Watches, ordering,
// atomic reads, stat, sync and sequential nodes; the other areas are in guarantees-push-2.
import { guaranteeAreas } from '@faaskeeper/core/testkit';
import { expect, it } from 'vitest';
import { localGcpTarget, missingStorageEmulator } from '../src/index.js';
import { whenEmulators } from './support.js';

whenEmulators((stack) => {
  // Node records in Cloud Storage when Firebase's emulator is installed (required on CI), else Datastore.
  const missing = missingStorageEmulator();
  if (missing !== undefined)
    it('runs the guarantee suite with the Cloud Storage user store', () => {
      console.warn(`GCS guarantee tests not run: ${missing}`);
      if (process.env.CI) expect(missing).toBeUndefined();
    });
  const userStore = missing === undefined ? ('gcs' as const) : ('datastore' as const);
  const target = localGcpTarget(stack, { invocation: 'push', userStore });
  for (const area of ['watches', 'ordering', 'atomic-reads', 'stat', 'sync', 'sequential'] as const)
    guaranteeAreas[area](target);
});
