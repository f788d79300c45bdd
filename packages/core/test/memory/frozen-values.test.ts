import { describe, expect, it } from 'vitest';
import { createEmbeddedService } from '../../src/embedded/embedded-service.js';
import { MemorySystemStore } from '../../src/memory/memory-system-store.js';
import { MemoryUserStore } from '../../src/memory/memory-user-store.js';
import type { NodeRecord } from '../../src/protocol/messages.js';
import { deepFreeze } from '../../src/util/clone.js';

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

  it('a user store record put is frozen, and a record got is still a copy the caller may change', async () => {
    const store = new MemoryUserStore({ values: 'frozen' });
    const record: NodeRecord = { data: new Uint8Array([1, 2, 3]), stat: stat(0), txZxid: 1 };
    await store.put('/a', record);
    expect(() => {
      record.stat.version = 9;
    }).toThrow(TypeError);
    const got = (await store.get('/a'))!;
    expect(got).not.toBe(record);
    got.stat.version = 5;
    got.data[0] = 200;
    const again = (await store.get('/a'))!;
    expect(again.stat.version).toBe(0);
    expect([...again.data]).toEqual([1, 2, 3]);
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

  it('the embedded deployment runs on frozen stores: the writer state and records it holds are frozen', async () => {
    const service = createEmbeddedService();
    try {
      const zk = await service.connect();
      await zk.create('/n', new Uint8Array([1]));
      await zk.setData('/n', new Uint8Array([2]));
      const state = await service.ports.systemStore.get<object>({ kind: 'meta', id: 'writer' });
      expect(Object.isFrozen(state!.value)).toBe(true);
      const node = await service.ports.systemStore.get<object>({ kind: 'node', id: '/n' });
      expect(Object.isFrozen(node!.value)).toBe(true);
      // What the application reads is its own to change.
      const read = await zk.getData('/n');
      read.stat.version = 77;
      expect((await zk.getData('/n')).stat.version).toBe(1);
      await zk.close();
    } finally {
      await service.close();
    }
  });
});
