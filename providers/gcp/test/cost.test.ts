// What one operation costs on GCP: every billable operation the adapters make (clients and
// functions alike) is counted on one meter and priced with the dated list prices.
import { CountingMeter, ManualClock } from '@faaskeeper/core';
import { describe, expect, it } from 'vitest';
import { createLocalGcpDeployment, gcpCost, missingStorageEmulator } from '../src/index.js';
import { whenEmulators } from './support.js';

whenEmulators((stack) => {
  const configurations: { invocation: 'pull' | 'push'; userStore: 'datastore' | 'gcs' }[] = [
    { invocation: 'pull', userStore: 'datastore' },
    { invocation: 'push', userStore: 'datastore' },
  ];
  if (missingStorageEmulator() === undefined) configurations.push({ invocation: 'push', userStore: 'gcs' });
  for (const { invocation, userStore } of configurations) {
    describe(`cost per operation (${invocation} invocation, ${userStore} user store)`, () => {
      it('reads cost one or two store reads and nothing else; writes stay within a bounded set of operations', async () => {
        const meter = new CountingMeter();
        // A clock that does not move: no pings or heartbeats run between the measured operations.
        const d = await createLocalGcpDeployment({
          stack: stack(),
          invocation,
          userStore,
          meter,
          clock: new ManualClock(),
        });
        try {
          const zk = await d.connect();
          await zk.create('/parent');
          const kib = new Uint8Array(1024).fill(7);
          const rows: Record<string, Record<string, number>> = {};
          const measure = async (name: string, op: () => Promise<unknown>) => {
            meter.reset();
            await op();
            // The reply can overtake the distributor's last bookkeeping write (push: its progress
            // record): wait until the meter has stopped moving (for 300 ms; at most 15 s) before
            // reading it, so a loaded machine does not push an operation's tail into the next row.
            let last = JSON.stringify(meter.snapshot());
            for (let quiet = 0, waited = 0; quiet < 300 && waited < 15_000; waited += 50) {
              await new Promise((r) => setTimeout(r, 50));
              const now = JSON.stringify(meter.snapshot());
              quiet = now === last ? quiet + 50 : 0;
              last = now;
            }
            rows[name] = meter.snapshot();
          };
          await measure('create (1 KiB)', () => zk.create('/parent/n', kib));
          await measure('getData', () => zk.getData('/parent/n'));
          await measure('setData (1 KiB)', () => zk.setData('/parent/n', kib));
          await measure('delete', () => zk.delete('/parent/n'));
          for (const [name, totals] of Object.entries(rows)) {
            const usd = gcpCost(totals);
            console.log(
              `${invocation}/${userStore} ${name}: ${JSON.stringify(totals)} = $${(usd * 1_000_000).toFixed(2)} per million`,
            );
          }
          const read = rows.getData!;
          const readKey = userStore === 'gcs' ? 'gcs.class-b' : 'datastore.entity-reads';
          expect(read[readKey]).toBeGreaterThanOrEqual(1);
          expect(read[readKey]).toBeLessThanOrEqual(2);
          expect(Object.keys(read)).toEqual([readKey]);
          for (const name of ['create (1 KiB)', 'setData (1 KiB)', 'delete']) {
            const w = rows[name]!;
            expect(w['datastore.entity-writes'] ?? 0).toBeLessThanOrEqual(12);
            expect(w['datastore.entity-reads'] ?? 0).toBeLessThanOrEqual(12);
            // Client → writer → distributor → channel: three publishes and three deliveries.
            expect(w['pubsub.publish-requests']).toBe(3);
            expect(gcpCost(w) * 1_000_000).toBeLessThan(50);
          }
        } finally {
          await d.close();
        }
      }, 60_000);
    });
  }
});
