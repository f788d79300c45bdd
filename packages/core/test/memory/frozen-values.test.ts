import { describe, expect, it } from 'vitest';
import { Ids } from '../../src/acl/model.js';
import { createEmbeddedService } from '../../src/embedded/embedded-service.js';
import { MemorySystemStore } from '../../src/memory/memory-system-store.js';
import { MemoryUserStore } from '../../src/memory/memory-user-store.js';
import { CreateMode } from '../../src/model/create-mode.js';
import type { NodeRecord } from '../../src/protocol/messages.js';
import { clone, deepFreeze } from '../../src/util/clone.js';

const key = { kind: 'node', id: '/a' } as const;

function stat(version: number): NodeRecord['stat'] {
  return {
    czxid: 1,
    mzxid: 1,
    pzxid: 1,
    ctime: 0,
    mtime: 0,
    version,
    cversion: 0,
    aversion: 0,
    ephemeralOwner: 0,
    dataLength: 3,
    numChildren: 0,
  };
}

describe('memory stores with frozen values', () => {
  it('a system store value put is kept without a copy, and changing what was put or got throws and changes nothing', async () => {
    const store = new MemorySystemStore({}, { values: 'frozen' });
    const value = { list: [1, 2], inner: { x: 1 }, data: new Uint8Array([1, 2, 3]) };
    await store.transact([{ type: 'put', ...key, value, expect: 'absent' }]);
    expect(() => value.list.push(3)).toThrow(TypeError);
    expect(() => {
      value.inner.x = 99;
    }).toThrow(TypeError);
    const got = (await store.get<typeof value>(key))!;
    // Handed out as it is: the same object, no copy made.
    expect(got.value).toBe(value);
    expect(() => {
      got.value.inner.x = 42;
    }).toThrow(TypeError);
    const [many] = await store.getMany<typeof value>([key]);
    expect(() => {
      many!.value.list.length = 0;
    }).toThrow(TypeError);
    const [listed] = await store.list<typeof value>('node');
    expect(() => {
      listed!.value.list[0] = 7;
    }).toThrow(TypeError);
    expect((await store.get<typeof value>(key))!.value).toEqual({
      list: [1, 2],
      inner: { x: 1 },
      data: new Uint8Array([1, 2, 3]),
    });
    await store.update(key, { inner: { x: 5 } });
    const updated = (await store.get<{ inner: { x: number } }>(key))!.value;
    expect(Object.isFrozen(updated.inner)).toBe(true);
  });

  it('a failed transaction freezes nothing it was given', async () => {
    const store = new MemorySystemStore({}, { values: 'frozen' });
    const value = { inner: { x: 1 } };
    await expect(store.transact([{ type: 'put', ...key, value, expect: 3 }])).rejects.toThrow(
      /condition failed/,
    );
    value.inner.x = 2;
    expect(value.inner.x).toBe(2);
  });

  it('a user store record put is frozen and handed out as it is; shared keeps it without freezing', async () => {
    const frozen = new MemoryUserStore({ values: 'frozen' });
    const record: NodeRecord = { data: new Uint8Array([1, 2, 3]), stat: stat(0), txZxid: 1 };
    await frozen.put('/a', record);
    expect(() => {
      record.stat.version = 9;
    }).toThrow(TypeError);
    expect(await frozen.get('/a')).toBe(record);
    const shared = new MemoryUserStore({ values: 'shared' });
    const other: NodeRecord = { data: new Uint8Array([1]), stat: stat(0), txZxid: 1 };
    await shared.put('/a', other);
    expect(await shared.get('/a')).toBe(other);
    expect(Object.isFrozen(other)).toBe(false);
  });

  it('a shared system store keeps and hands out values as they are', async () => {
    const store = new MemorySystemStore({}, { values: 'shared' });
    const value = { inner: { x: 1 } };
    await store.transact([{ type: 'put', ...key, value, expect: 'absent' }]);
    expect((await store.get(key))!.value).toBe(value);
    expect((await store.getMany([key]))[0]!.value).toBe(value);
    expect(Object.isFrozen(value)).toBe(false);
  });

  it('the default stores still copy in and out', async () => {
    const store = new MemorySystemStore();
    const value = { inner: { x: 1 } };
    await store.transact([{ type: 'put', ...key, value, expect: 'absent' }]);
    value.inner.x = 2;
    const got = (await store.get<typeof value>(key))!.value;
    expect(got).toEqual({ inner: { x: 1 } });
    got.inner.x = 3;
    expect((await store.get<typeof value>(key))!.value.inner.x).toBe(1);
  });

  it('deepFreeze freezes nested arrays and objects, leaves byte arrays usable and returns its argument', () => {
    const bytes = new Uint8Array([1]);
    const v = { a: [{ b: 1 }], bytes, nothing: null };
    expect(deepFreeze(v)).toBe(v);
    expect(Object.isFrozen(v) && Object.isFrozen(v.a) && Object.isFrozen(v.a[0])).toBe(true);
    bytes[0] = 2;
    expect(v.bytes[0]).toBe(2);
    expect(deepFreeze(5)).toBe(5);
  });

  it('the core changes no value it put or got: a workload on frozen stores runs without a function error', async () => {
    const errors: unknown[] = [];
    const service = createEmbeddedService({
      values: 'frozen',
      onFunctionError: (name, error) => errors.push([name, error]),
    });
    try {
      const zk = await service.connect();
      const other = await service.connect();
      const events: string[] = [];
      await zk.create('/n', new Uint8Array([1]));
      await zk.create('/n/e', new Uint8Array([1]), { mode: CreateMode.EPHEMERAL });
      await other.create('/n/o', new Uint8Array([1]), { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
      await zk.getData('/n', { watch: (e) => events.push(`data ${e.type}`) });
      await zk.getChildren('/n', { watch: (e) => events.push(`children ${e.type}`) });
      await zk.exists('/m', { watch: (e) => events.push(`exists ${e.type}`) });
      // Persistent and recursive watches: the writer state's path filter is set and read. The
      // writer works on a shallow copy of its state, so a nested part changed in place would throw.
      const persistent = (e: { type: string }) => events.push(`persistent ${e.type}`);
      await zk.addWatch('/n', persistent, 'PERSISTENT');
      await other.addWatch('/', () => {}, 'PERSISTENT_RECURSIVE');
      await other.setData('/n', new Uint8Array([2]));
      await zk.removeWatches('/n', persistent);
      await other.create('/m', new Uint8Array(0));
      await zk.multi([
        { op: 'check', path: '/n', version: 1 },
        { op: 'setData', path: '/m', data: new Uint8Array([3]) },
        { op: 'create', path: '/n/c', data: new Uint8Array([4]), mode: CreateMode.CONTAINER },
      ]);
      await zk.setACL('/m', Ids.READ_ACL_UNSAFE);
      await other.close();
      expect((await zk.getChildren('/n')).children.sort()).toEqual(['c', 'e']);
      await zk.delete('/n/c');
      await service.heartbeat();
      const read = await zk.getData('/m');
      expect([...read.data]).toEqual([3]);
      expect(read.stat.aversion).toBe(1);
      expect(events.sort()).toEqual([
        'children NodeChildrenChanged',
        'data NodeDataChanged',
        'exists NodeCreated',
        'persistent NodeDataChanged',
      ]);
      // The writer state and node items the functions committed are frozen.
      const state = await service.ports.systemStore.get<object>({ kind: 'meta', id: 'writer' });
      expect(Object.isFrozen(state!.value)).toBe(true);
      await zk.close();
    } finally {
      await service.close();
    }
    expect(errors).toEqual([]);
  });

  it('clone copies the bytes of a Buffer too (its own slice is a view), and does not keep the memory they came from', () => {
    const read = Buffer.from([0, 1, 2, 3, 4, 5]);
    const data = read.subarray(2, 4);
    const copy = clone({ data }).data;
    read[2] = 99;
    expect([...copy]).toEqual([2, 3]);
    expect(copy.buffer.byteLength).toBe(2);
    // What the default stores hold is such a copy.
    const store = new MemoryUserStore();
    return store.put('/b', { data, stat: stat(0), txZxid: 1 }).then(async () => {
      read[3] = 98;
      expect([...(await store.get('/b'))!.data]).toEqual([99, 3]);
    });
  });
});
