// Ended sessions whose watches outlast their close's transaction (issue 12, item 3; docs/scale.md
// §3): the writer state does not grow with the number of such sessions being closed at once — each
// has a `cleanup` item, the state only counts them — while their registrations are still removed,
// and no event goes to them meanwhile.
import { describe, expect, it } from 'vitest';
import {
  createEmbeddedService,
  encodeMessage,
  type FaaSKeeperClient,
  ManualClock,
  type TransactOp,
  TransientError,
  type WatchCleanup,
  type WriterState,
} from '../../src/index.js';
import {
  checkFinalState,
  drain,
  interceptPort,
  PORT_METHODS,
  unwrapPort,
} from '../../src/testkit/faults/index.js';
import { limitTransactionItems } from '../../src/testkit/index.js';
import { mapLimit } from '../../src/util/map-limit.js';
import { endedId } from '../../src/watch/items.js';

/** A close removes at most 32 registrations itself (watch/ended-sessions.ts): each session has more. */
const WATCHES_PER_SESSION = 40;

/**
 * The writer state as it is put, without the batch it carries for a retry (`last` and `log`, or
 * `packed`, their compressed form): bounded by the chunk budget, not by closing sessions.
 */
function stateOf(ops: readonly TransactOp[]): Omit<WriterState, 'last' | 'log' | 'packed'> | undefined {
  const put = ops.find((op) => op.kind === 'meta' && op.id === 'writer' && op.type === 'put');
  if (put === undefined || put.type !== 'put') return undefined;
  const { last: _last, log: _log, packed: _packed, ...rest } = put.value as WriterState;
  return rest;
}

/**
 * Opens `n` sessions with {@link WATCHES_PER_SESSION} watches each, closes them all at once (one
 * writer batch holds many closes), and returns the largest writer state put meanwhile (bytes of
 * its JSON without `last` and `log`), the largest count of ended sessions it held, and the final
 * state check.
 */
async function closeMany(
  n: number,
): Promise<{ stateBytes: number; endedMax: number; listed: number; problems: string[] }> {
  let stateBytes = 0;
  let endedMax = 0;
  let listed = 0;
  const service = createEmbeddedService({
    clock: new ManualClock(),
    wrap: {
      systemStore: (inner) =>
        interceptPort(
          limitTransactionItems(inner, 25),
          PORT_METHODS.systemStore,
          async (method, args, call) => {
            const state = method === 'transact' ? stateOf(args[0] as TransactOp[]) : undefined;
            if (state !== undefined) {
              stateBytes = Math.max(stateBytes, encodeMessage(state).length);
              endedMax = Math.max(endedMax, state.endedSessions ?? 0);
              listed = Math.max(listed, state.watchCleanup?.length ?? 0);
            }
            return call();
          },
        ),
    },
  });
  const zk = await service.connect();
  await zk.create('/m');
  const sessions: FaaSKeeperClient[] = await mapLimit(
    Array.from({ length: n }, (_, i) => i),
    8,
    async (i) => {
      const c = await service.connect();
      for (let w = 0; w < WATCHES_PER_SESSION; w++) await c.exists(`/m/s${i}w${w}`, { watch: () => {} });
      return c;
    },
  );
  await Promise.all(sessions.map((c) => c.close()));
  await drain(service);
  const problems = await checkFinalState(service);
  await zk.close();
  await service.close();
  return { stateBytes, endedMax, listed, problems };
}

describe("ended sessions' watch removal", () => {
  it('keeps the writer state the same size whether 2 or 40 sessions with long watch lists close at once', async () => {
    const few = await closeMany(2);
    const many = await closeMany(40);
    // Many closes did wait for their removal together (the count rose past the few's).
    expect(many.endedMax).toBeGreaterThan(few.endedMax);
    expect(few.problems).toEqual([]);
    expect(many.problems).toEqual([]);
    expect(many.listed).toBe(0);
    // Only the count's digits may differ: the state names none of the sessions.
    expect(many.stateBytes - few.stateBytes).toBeLessThanOrEqual(4);
  });

  it('tells an ended session nothing while its watches are still being removed, and finishes after failed removal commits', async () => {
    // The commit that would finish the removal fails (as a crash would) until released: the close
    // commits, the session's last registrations wait.
    let hold = true;
    let held = 0;
    let closedSession = 0;
    const delivered: string[] = [];
    const service = createEmbeddedService({
      wrap: {
        systemStore: (inner) =>
          interceptPort(
            limitTransactionItems(inner, 25),
            PORT_METHODS.systemStore,
            async (method, args, call) => {
              const ops = method === 'transact' ? (args[0] as TransactOp[]) : [];
              if (hold && ops.some((op) => op.id === endedId(closedSession) && op.type === 'delete')) {
                held++;
                throw new TransientError('injected: the removal commit fails');
              }
              return call();
            },
          ),
      },
    });
    const other = await service.connect();
    const zk = await service.connect();
    closedSession = zk.sessionNumber;
    await other.create('/m');
    for (let w = 0; w < WATCHES_PER_SESSION; w++)
      await zk.exists(`/m/w${w}`, { watch: (e) => delivered.push(e.path) });
    await zk.close();
    const system = unwrapPort(service.ports.systemStore);
    // The close is committed, and the commit that would end its removal has failed.
    await expect.poll(() => held, { timeout: 10_000 }).toBeGreaterThan(0);
    expect((await system.get({ kind: 'cleanup', id: endedId(closedSession) }))?.value).toMatchObject({
      session: closedSession,
    });
    await other.create('/m/w0');
    const state = (await system.get<WriterState>({ kind: 'meta', id: 'writer' }))!.value;
    expect(state.endedSessions).toBe(1);
    expect(state.watchCleanup).toBeUndefined();
    hold = false;
    await other.create('/m/w1');
    await drain(service);
    expect(delivered).toEqual([]);
    expect(await system.get({ kind: 'cleanup', id: endedId(closedSession) })).toBeUndefined();
    expect(await checkFinalState(service)).toEqual([]);
    await other.close();
    await service.close();
  });

  it('works off the ended sessions that a writer state of the first layout lists (watchCleanup)', async () => {
    // The close's commit is rewritten into the first layout (the session listed in the state, no
    // cleanup item), and the writer crashes right after it: the retry reads that state.
    let rewritten = false;
    let closedSession = 0;
    const service = createEmbeddedService({
      wrap: {
        systemStore: (inner) =>
          interceptPort(inner, PORT_METHODS.systemStore, async (method, args, call) => {
            if (method !== 'transact' || rewritten) return call();
            const ops = args[0] as TransactOp[];
            const ended = ops.find((op) => op.kind === 'cleanup' && op.id === endedId(closedSession));
            if (ended === undefined || ended.type !== 'put') return call();
            rewritten = true;
            const legacy = ops
              .filter((op) => op !== ended)
              .map((op) => {
                if (op.type !== 'put' || op.kind !== 'meta' || op.id !== 'writer') return op;
                const { endedSessions: _count, ...state } = op.value as WriterState;
                return { ...op, value: { ...state, watchCleanup: [ended.value as WatchCleanup] } };
              });
            await call([legacy]);
            throw new TransientError('injected: crash after the close commit');
          }),
      },
    });
    const other = await service.connect();
    const zk = await service.connect();
    closedSession = zk.sessionNumber;
    await other.create('/m');
    for (let w = 0; w < WATCHES_PER_SESSION; w++) await zk.exists(`/m/w${w}`, { watch: () => {} });
    await zk.close();
    await drain(service);
    expect(rewritten).toBe(true);
    const system = unwrapPort(service.ports.systemStore);
    const state = (await system.get<WriterState>({ kind: 'meta', id: 'writer' }))!.value;
    expect(state.watchCleanup).toBeUndefined();
    expect(state.endedSessions).toBeUndefined();
    expect(await checkFinalState(service)).toEqual([]);
    await other.close();
    await service.close();
  });
});
