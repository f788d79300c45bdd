import { describe, expect, it } from 'vitest';
import type { DeploymentTarget } from '../target.js';
import { expectError, guaranteeKit, text } from './helpers.js';

/** After sync(), a read reflects every write acknowledged before it began, on `target`. */
export function describeSyncGuarantees(target: DeploymentTarget): void {
  describe(target.name, { timeout: target.testTimeoutMs }, () => {
    const kit = guaranteeKit(target);

    describe('sync', () => {
      it('after sync, a read reflects every write acknowledged to any client before the sync began', async () => {
        const { connect } = await kit.deploy();
        const writers = await Promise.all(Array.from({ length: 4 }, () => connect()));
        const reader = await connect();
        await writers[0]!.create('/s');
        for (const [i, zk] of writers.entries()) await zk.create(`/s/${i}`, '-1');

        // Each writer pipelines writes; every acknowledgement is recorded as it arrives.
        const acked = new Map<string, number>();
        const writes = writers.flatMap((zk, i) =>
          Array.from({ length: 15 }, (_, k) =>
            zk.setData(`/s/${i}`, String(k)).then(() => {
              acked.set(`/s/${i}`, Math.max(acked.get(`/s/${i}`) ?? -1, k));
            }),
          ),
        );
        // Sync in the middle of the write stream, several times: each time, every write acknowledged
        // before the sync began must be visible after it.
        let checked = 0;
        for (const k of [3, 18, 33, 48]) {
          await writes[k];
          const before = new Map(acked);
          await reader.sync('/');
          for (const [path, v] of before) {
            const value = Number(text((await reader.getData(path)).data));
            expect(value).toBeGreaterThanOrEqual(v);
            checked++;
          }
        }
        expect(checked).toBeGreaterThanOrEqual(4);
        await Promise.all(writes);
        await reader.sync('/s');
        for (let i = 0; i < writers.length; i++)
          expect(text((await reader.getData(`/s/${i}`)).data)).toBe('14');
      });

      it('a read issued right after sync, without awaiting it, waits for the sync', async () => {
        const { connect } = await kit.deploy();
        const [writer, reader] = await Promise.all([connect(), connect()]);
        await writer.create('/x', 'old');
        await writer.setData('/x', 'new');
        const synced = reader.sync('/x');
        const read = reader.getData('/x');
        await synced;
        expect(text((await read).data)).toBe('new');
      });

      it('sees a creation and a deletion acknowledged to another client', async () => {
        const { connect } = await kit.deploy();
        const [writer, reader] = await Promise.all([connect(), connect()]);
        await writer.create('/born');
        await writer.create('/dies');
        await writer.delete('/dies');
        await reader.sync('/');
        expect(await reader.exists('/born')).not.toBeNull();
        expect(await reader.exists('/dies')).toBeNull();
        expect((await reader.getChildren('/')).children).toEqual(['born']);
      });

      it('refuses a malformed sync path with BADARGUMENTS', async () => {
        const zk = await (await kit.deploy()).connect();
        await expectError(zk.sync('no-slash'), 'BADARGUMENTS');
      });
    });
  });
}
