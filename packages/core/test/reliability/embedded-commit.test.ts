import { describe, expect, it, vi } from 'vitest';
import {
  createEmbeddedService,
  type EmbeddedServiceOptions,
  type SystemStore,
  type TransactOp,
  type WriterState,
} from '../../src/index.js';
import { WRITER_STATE_ID } from '../../src/writer/writer.js';

/** The system store's transactions, as the functions made them (kind/id per op). */
function recordTransactions(into: string[][]): (store: SystemStore) => SystemStore {
  return (store) =>
    new Proxy(store, {
      get(target, key, receiver) {
        if (key !== 'transact') return Reflect.get(target, key, receiver);
        return (ops: TransactOp[]) => {
          into.push(ops.map((op) => `${op.type} ${op.kind}/${op.id}`));
          return target.transact(ops);
        };
      },
    });
}

/** The transactions of one setData of 1 KiB on a node that exists, and the writer state after it. */
async function oneSetData(commit: EmbeddedServiceOptions['commit']) {
  const transactions: string[][] = [];
  const service = createEmbeddedService({
    ...(commit === undefined ? {} : { commit }),
    wrap: { systemStore: recordTransactions(transactions) },
  });
  try {
    const zk = await service.connect();
    await zk.create('/n', 'v0');
    transactions.length = 0;
    const stat = await zk.setData('/n', new Uint8Array(1024).fill(7));
    // The reply comes after the commit; a log's item writes go alongside the distribution, so they
    // may still be under way: wait for the session's, written last.
    await vi.waitFor(() =>
      expect(transactions.flat().some((op) => op.startsWith('put session/'))).toBe(true),
    );
    const made = transactions.slice();
    const state = await service.ports.systemStore.get<WriterState>({ kind: 'meta', id: WRITER_STATE_ID });
    await zk.close();
    return { transactions: made, stat, state: state?.value };
  } finally {
    await service.close();
  }
}

describe('how the embedded deployment commits a write', () => {
  it('by default in one memory transaction of the items and the writer state, stored unpacked', async () => {
    const { transactions, stat, state } = await oneSetData(undefined);
    expect(stat.version).toBe(1);
    expect(transactions).toHaveLength(1);
    expect(transactions[0]).toHaveLength(3);
    expect(transactions[0]).toEqual(
      expect.arrayContaining(['put node//n', expect.stringMatching(/^put session\//), 'put meta/writer']),
    );
    // No log to replay and nothing deflated: the state holds the last batch as the writer built it.
    expect(state?.log).toBeUndefined();
    expect(state?.packed).toBeUndefined();
    expect(state?.last?.output?.items).toHaveLength(1);
  });

  it("with commit: 'redo-log' as on DynamoDB: the state put carries the log, then one write per item", async () => {
    const { transactions, stat, state } = await oneSetData('redo-log');
    expect(stat.version).toBe(1);
    expect(transactions[0]).toEqual(['put meta/writer']);
    // The items follow as single-item writes, the session (the log's sentinel) last.
    expect(transactions.slice(1).map((ops) => ops.length)).toEqual([1, 1]);
    expect(transactions[1]).toEqual(['put node//n']);
    expect(transactions[2]![0]).toMatch(/^put session\//);
    // The last batch and the log are stored deflated.
    expect(state?.packed).toBeDefined();
    expect(state?.last).toBeUndefined();
  });
});
