// The core's children guarantees on the local GCP stack (getChildren over the child index: the child
// set of one zxid under concurrent creates and deletes, re-created names, a large parent answered in
// full), in a file of its own because filling the large parent takes minutes. Push invocation with
// the Cloud Storage user store (Datastore without the Storage emulator) fills `cloudManyChildren()`
// (30,000 unless FAASKEEPER_MANY_CHILDREN says; 100,000 took 5 minutes here); pull invocation with
// the Datastore user store fills 20,000 (or less if told): on the Datastore emulator 100,000 did not
// finish within 20 minutes on a loaded 2-core machine (2026-12-05).
import { cloudManyChildren, describeChildrenGuarantees, requireOrSkip } from '@faaskeeper/core/testkit';
import { it } from 'vitest';
import { localGcpTarget, missingStorageEmulator } from '../src/local/index.js';
import { whenEmulators } from './support.js';

whenEmulators((stack) => {
  describeChildrenGuarantees(localGcpTarget(stack, { invocation: 'pull', userStore: 'datastore' }), {
    manyChildren: Math.min(20_000, cloudManyChildren()),
    multiOps: 90,
    manyChildrenTimeoutMs: 1_200_000,
  });
  const noStorage = missingStorageEmulator();
  if (noStorage !== undefined)
    it('runs the children guarantees with the Cloud Storage user store', (ctx) => {
      requireOrSkip(ctx, noStorage, 'the GCS children guarantees');
    });
  describeChildrenGuarantees(
    localGcpTarget(stack, { invocation: 'push', userStore: noStorage === undefined ? 'gcs' : 'datastore' }),
    { multiOps: 90, manyChildren: cloudManyChildren(), manyChildrenTimeoutMs: 1_200_000 },
  );
});
