import { describe, expect, it } from 'vitest';
import { CreateMode } from '../../index.js';
import type { DeploymentTarget } from '../target.js';
import { expectError, guaranteeKit, limitTransactionItems, recorder, text } from './helpers.js';

/** multi() is all-or-nothing, with one zxid and per-op results, on `target`. */
export function describeMultiGuarantees(target: DeploymentTarget): void {
  describe(target.name, { timeout: target.testTimeoutMs }, () => {
    const kit = guaranteeKit(target);

    describe('multi', () => {
      it('a failed multi applies nothing and reports OK, the failing code, then RUNTIMEINCONSISTENCY', async () => {
        const zk = await (await kit.deploy()).connect();
        await zk.create('/m');
        await zk.create('/m/b', 'b0');
        const parentBefore = (await zk.exists('/m'))!;
        const bBefore = await zk.getData('/m/b');

        const error = await expectError(
          zk.multi([
            { op: 'create', path: '/m/a', data: 'a' },
            { op: 'setData', path: '/m/b', data: 'b1' },
            { op: 'setData', path: '/m/b', data: 'b2', version: 99 },
            { op: 'create', path: '/m/c' },
            { op: 'delete', path: '/m/b' },
          ]),
          'BADVERSION',
        );
        expect(error.results).toEqual([
          { code: 'OK' },
          { code: 'OK' },
          { code: 'BADVERSION' },
          { code: 'RUNTIMEINCONSISTENCY' },
          { code: 'RUNTIMEINCONSISTENCY' },
        ]);
        // Nothing of it took effect, not even the ops before the failing one.
        expect(await zk.exists('/m/a')).toBeNull();
        expect(await zk.exists('/m/c')).toBeNull();
        const bAfter = await zk.getData('/m/b');
        expect(text(bAfter.data)).toBe('b0');
        expect(bAfter.stat).toEqual(bBefore.stat);
        expect(await zk.exists('/m')).toEqual(parentBefore);
        expect((await zk.getChildren('/m')).children).toEqual(['b']);
        // The writer's own view agrees: later writes find the state from before the multi.
        expect(await zk.create('/m/a', 'again')).toBe('/m/a');
        expect((await zk.setData('/m/b', 'b1', { version: 0 })).version).toBe(1);
        expect((await zk.exists('/m'))!.cversion).toBe(parentBefore.cversion + 1);
      });

      it('reports the failing op first in the results when the first op fails', async () => {
        const zk = await (await kit.deploy()).connect();
        await zk.create('/exists');
        const error = await expectError(
          zk.multi([
            { op: 'create', path: '/exists' },
            { op: 'create', path: '/new' },
          ]),
          'NODEEXISTS',
        );
        expect(error.results).toEqual([{ code: 'NODEEXISTS' }, { code: 'RUNTIMEINCONSISTENCY' }]);
        expect(await zk.exists('/new')).toBeNull();
      });

      it('a failing check op aborts the multi with its code', async () => {
        const zk = await (await kit.deploy()).connect();
        await zk.create('/v');
        await zk.setData('/v', '1');
        const error = await expectError(
          zk.multi([
            { op: 'setData', path: '/v', data: 'changed' },
            { op: 'check', path: '/v', version: 1 }, // the setData before it moved the version to 2
          ]),
          'BADVERSION',
        );
        expect(error.results).toEqual([{ code: 'OK' }, { code: 'BADVERSION' }]);
        const missing = await expectError(
          zk.multi([
            { op: 'check', path: '/v', version: 1 },
            { op: 'check', path: '/absent', version: 0 },
          ]),
          'NONODE',
        );
        expect(missing.results).toEqual([{ code: 'OK' }, { code: 'NONODE' }]);
        const { data, stat } = await zk.getData('/v');
        expect(text(data)).toBe('1');
        expect(stat.version).toBe(1);
      });

      it('a failed multi fires no watch', async () => {
        const { connect } = await kit.deploy();
        const [a, b] = await Promise.all([connect(), connect()]);
        await a.create('/w', '0');
        const w = recorder();
        await a.getData('/w', { watch: w.watcher });
        await expectError(
          b.multi([
            { op: 'setData', path: '/w', data: '1' },
            { op: 'delete', path: '/absent' },
          ]),
          'NONODE',
        );
        await a.sync('/');
        expect(w.events).toEqual([]);
        await b.setData('/w', '2');
        await a.sync('/');
        expect(w.events).toEqual(['NodeDataChanged /w']);
      });

      it('a successful multi returns per-op results', async () => {
        const zk = await (await kit.deploy()).connect();
        await zk.create('/s');
        await zk.create('/s/old', 'x');
        await zk.create('/s/gone');
        const results = await zk.multi([
          { op: 'create', path: '/s/new', data: 'n' },
          { op: 'create', path: '/s/seq-', mode: CreateMode.PERSISTENT_SEQUENTIAL },
          { op: 'setData', path: '/s/old', data: 'yy', version: 0 },
          { op: 'check', path: '/s/old', version: 1 },
          { op: 'delete', path: '/s/gone', version: 0 },
        ]);
        expect(results).toHaveLength(5);
        expect(results[0]).toEqual({ op: 'create', path: '/s/new' });
        // The suffix counts the create before it in the same multi (cversion 2 + 1).
        expect(results[1]).toEqual({ op: 'create', path: '/s/seq-0000000003' });
        expect(results[3]).toEqual({ op: 'check' });
        expect(results[4]).toEqual({ op: 'delete' });
        const setData = results[2]!;
        expect(setData.op).toBe('setData');
        const stat = (setData as { stat: unknown }).stat;
        expect(stat).toEqual((await zk.getData('/s/old')).stat);
        expect((await zk.getChildren('/s')).children).toEqual(['new', 'old', 'seq-0000000003']);
        expect(await zk.multi([])).toEqual([]);
      });

      it('the ops of a multi share one zxid', async () => {
        const zk = await (await kit.deploy()).connect();
        await zk.create('/t');
        await zk.create('/t/x');
        const results = await zk.multi([
          { op: 'create', path: '/t/a' },
          { op: 'create', path: '/t/a/b' }, // sees the create before it
          { op: 'setData', path: '/t/x', data: 'v' },
          { op: 'delete', path: '/t/x' }, // deletes /t/x after changing it
        ]);
        expect(results.map((r) => r.op)).toEqual(['create', 'create', 'setData', 'delete']);
        const a = (await zk.exists('/t/a'))!;
        const b = (await zk.exists('/t/a/b'))!;
        const t = (await zk.exists('/t'))!;
        const zxid = a.czxid;
        expect(b.czxid).toBe(zxid);
        expect((results[2] as { stat: { mzxid: number } }).stat.mzxid).toBe(zxid);
        expect(t.pzxid).toBe(zxid);
        expect(a.pzxid).toBe(zxid);
        expect(await zk.exists('/t/x')).toBeNull();
        // The parent counts each child change of the multi.
        expect(t.cversion).toBe(3);
        expect(t.numChildren).toBe(1);
        // The next write gets the next zxid after the multi's.
        await zk.create('/t/next');
        expect((await zk.exists('/t/next'))!.czxid).toBeGreaterThan(zxid);
      });

      it('delivers the events of a multi together, after which the data is all there', async () => {
        const { connect } = await kit.deploy();
        const [a, b] = await Promise.all([connect(), connect()]);
        await b.create('/e1', '0');
        await b.create('/e2', '0');
        const seen: string[] = [];
        const check = async () => {
          seen.push(`${text((await a.getData('/e1')).data)}${text((await a.getData('/e2')).data)}`);
        };
        let reads: Promise<void> | undefined;
        await a.getData('/e1', {
          watch: () => {
            reads = check();
          },
        });
        await b.multi([
          { op: 'setData', path: '/e1', data: '1' },
          { op: 'setData', path: '/e2', data: '1' },
        ]);
        await a.sync('/');
        await reads;
        expect(seen).toEqual(['11']);
      });

      it('later ops of a multi see the effects of earlier ones', async () => {
        const zk = await (await kit.deploy()).connect();
        await zk.create('/k');
        await zk.create('/k/gone', 'old');
        const results = await zk.multi([
          { op: 'create', path: '/k/tmp', data: 'a' },
          { op: 'delete', path: '/k/tmp', version: 0 },
          { op: 'delete', path: '/k/gone' },
          { op: 'create', path: '/k/gone', data: 'reborn' },
          { op: 'create', path: '/k/n', data: 'first' },
          { op: 'setData', path: '/k/n', data: 'second', version: 0 },
          { op: 'create', path: '/k/n/child' },
          { op: 'check', path: '/k/n', version: 1 },
        ]);
        expect(results.map((r) => r.op)).toEqual([
          'create',
          'delete',
          'delete',
          'create',
          'create',
          'setData',
          'create',
          'check',
        ]);
        expect(await zk.exists('/k/tmp')).toBeNull();
        const gone = await zk.getData('/k/gone');
        expect(text(gone.data)).toBe('reborn');
        expect(gone.stat.version).toBe(0);
        const n = await zk.getData('/k/n');
        expect(text(n.data)).toBe('second');
        expect(n.stat).toMatchObject({ version: 1, cversion: 1, numChildren: 1, dataLength: 6 });
        expect(n.stat.czxid).toBe(n.stat.mzxid);
        // A setData result is the Stat as of that op, before the child create after it (as in ZooKeeper).
        expect((results[5] as { stat: unknown }).stat).toEqual({ ...n.stat, cversion: 0, numChildren: 0 });
        const k = (await zk.getChildren('/k')).stat;
        expect(k.cversion).toBe(1 + 5); // /k/gone's first create, then five child changes in the multi
        expect(k.numChildren).toBe(2);
      });

      it('refuses a multi larger than one store transaction with BADARGUMENTS, applying nothing', async () => {
        const zk = await (
          await kit.deploy({ wrap: { systemStore: (inner) => limitTransactionItems(inner, 25) } })
        ).connect();
        await zk.create('/l');
        await expectError(
          zk.multi(Array.from({ length: 40 }, (_, i) => ({ op: 'create' as const, path: `/l/${i}` }))),
          'BADARGUMENTS',
        );
        expect((await zk.getChildren('/l')).children).toEqual([]);
        // The writer is not stuck behind it.
        expect(await zk.multi([{ op: 'create', path: '/l/ok' }])).toEqual([{ op: 'create', path: '/l/ok' }]);
      });
    });
  });
}
