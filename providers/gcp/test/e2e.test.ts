// End to end on the local GCP stack, from a user's side: a client made by `connect()` from
// @faaskeeper/gcp — its own Pub/Sub subscription and user-store reads, as in another process — on a
// FaaSKeeper deployment whose stores are in the Datastore emulator (or Cloud Storage) and whose
// queues and channels are Pub/Sub emulator topics, with the real writer, distributor and heartbeat.
// The guarantees themselves are checked by core's suite in guarantees-*.test.ts.
import { CreateMode, type FaaSKeeperClient, type WatchedEvent } from '@faaskeeper/core';
import { requireOrSkip } from '@faaskeeper/core/testkit';
import { describe, expect, it } from 'vitest';
import { connect } from '../src/index.js';
import { createLocalGcpDeployment, missingStorageEmulator } from '../src/local/index.js';
import { whenEmulators } from './support.js';

const text = (data: Uint8Array) => new TextDecoder().decode(data);

whenEmulators((stack) => {
  // Both invocation paths — in-process pollers on pull subscriptions, and the functions served over
  // HTTP by the functions framework and invoked by the emulator's ordered push subscriptions — and
  // both user stores (Datastore; Cloud Storage on Firebase's emulator when installed).
  const gcs = missingStorageEmulator() === undefined ? ('gcs' as const) : ('datastore' as const);
  if (gcs !== 'gcs')
    it('runs the end-to-end tests with the Cloud Storage user store', (ctx) => {
      requireOrSkip(ctx, missingStorageEmulator(), 'the GCS end-to-end tests');
    });
  const configurations = [
    { invocation: 'pull', userStore: 'datastore' },
    { invocation: 'push', userStore: gcs },
  ] as const;
  for (const { invocation, userStore } of configurations) {
    describe(`${invocation} invocation, ${userStore} user store`, () => {
      it("serves a client made by connect() from @faaskeeper/gcp as it serves the deployment's own", async () => {
        const d = await createLocalGcpDeployment({ stack: stack(), invocation, userStore });
        let user: FaaSKeeperClient | undefined;
        try {
          const own = await d.connect();
          user = await connect(d.connectOptions);
          expect(user.state).toBe('CONNECTED');
          // Writes of each are read by the other, byte-exact.
          const bytes = new Uint8Array([0, 1, 2, 254, 255]);
          expect(await user.create('/u', bytes)).toBe('/u');
          expect([...(await own.getData('/u')).data]).toEqual([...bytes]);
          // Its watch event comes on its own subscription, before it can read the new data.
          const events: string[] = [];
          await user.getData('/u', { watch: (e: WatchedEvent) => events.push(`${e.type} ${e.path}`) });
          await own.setData('/u', 'changed');
          const { data } = await user.getData('/u');
          expect(events).toEqual(['NodeDataChanged /u']);
          expect(text(data)).toBe('changed');
          // Its session is a session like any other: closing it removes its ephemerals.
          await user.create('/u/eph', '', { mode: CreateMode.EPHEMERAL });
          expect(await own.exists('/u/eph')).not.toBeNull();
          await user.close();
          expect(await own.exists('/u/eph')).toBeNull();
        } finally {
          await user?.close();
          await d.close();
        }
      }, 60_000);
    });
  }
});
