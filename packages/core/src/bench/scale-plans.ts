/*
 * The scale benchmark's dimensions: what each builds at one size and which operations it measures
 * there (children under one parent, sessions watching one node, idle sessions, nodes in the tree).
 */
import type { FaaSKeeperClient } from '../client/client.js';
import { FaaSKeeperError } from '../model/errors.js';
import { mapLimit } from '../util/map-limit.js';
import type { OpAtSize, ScaleTarget } from './scale.js';
import { childName, fillChildren, round3, type Session } from './scale-session.js';
import { openMany, seededRandom, transientSetupError, withSetupRetry } from './scale-setup.js';

const DATA = new Uint8Array(100).fill(7);

/** How a target's many sessions are set up: how many at once, and each step with its retries. */
function setupOf(target: ScaleTarget, progress: (line: string) => void) {
  const random = seededRandom(7);
  const attempts = target.setupAttempts ?? 1;
  const retry = <T>(what: string, step: () => Promise<T>) =>
    withSetupRetry(what, step, { attempts, baseDelayMs: 1_000, progress, random });
  return {
    inFlight: target.setupInFlight ?? target.fillInFlight * 8,
    retry,
    /**
     * Connects and runs `steps` on the new session; when a step still times out after its retries
     * (a client whose channel is stuck does not recover by asking again), closes that client and
     * sets the session up once more on a fresh one. `steps` must accept what the first attempt left.
     */
    async session(
      what: string,
      connect: () => Promise<FaaSKeeperClient>,
      steps: (c: FaaSKeeperClient) => Promise<void>,
    ): Promise<FaaSKeeperClient> {
      for (let round = 1; ; round++) {
        const c = await retry('connect', connect);
        try {
          await steps(c);
          return c;
        } catch (error) {
          if (round >= 2 || attempts <= 1 || !transientSetupError(error)) throw error;
          progress(`  ${what}: setting it up again on a fresh client`);
          await c.close().catch((closing: unknown) => {
            // Safe to drop: a session not closed here expires with its timeout; the bench only
            // needs the fresh one.
            progress(`  ${what}: the stuck client did not close: ${String(closing)}`);
          });
        }
      }
    },
  };
}

/** What one dimension does at one size: builds it, then measures its operations. */
export type DimensionPlan = (
  s: Session,
  zk: FaaSKeeperClient,
  size: number,
) => Promise<Record<string, OpAtSize>>;

/**
 * Children under one parent: create and delete of a child, setData of the parent, getChildren of
 * the parent (checked to answer in full), and, as the baseline the 2× bound is judged
 * against, a create under an empty parent of the same tree.
 */
export function childrenPlan(target: ScaleTarget, progress: (line: string) => void): DimensionPlan {
  return async (s, zk, size) => {
    await zk.create('/p');
    await zk.create('/empty');
    await fillChildren(zk, '/p', size, target.fillBatch, target.fillInFlight, (done) =>
      progress(`  filled ${done}/${size} children`),
    );
    const created: number[] = [];
    const create = (i: number) => {
      created.push(i);
      return zk.create(`/p/x${i}`, DATA);
    };
    const out: Record<string, OpAtSize> = {};
    out.createUnderEmptyParent = await s.measure(size, (i) => zk.create(`/empty/x${i}`, DATA));
    out.create = await s.measure(size, create);
    // Deletes what the create runs made, so the parent is back at `size` children.
    out.delete = await s.measure(size, async () => zk.delete(`/p/x${created.shift()}`));
    out.setDataOfParent = await s.measure(size, () => zk.setData('/p', DATA));
    out.getChildren = await s.measure(size, async () => {
      const { children } = await zk.getChildren('/p');
      if (children.length < size)
        throw new Error(`getChildren answered ${children.length} of ${size} children`);
    });
    return out;
  };
}

/**
 * Sessions watching one node: `size` sessions each set a data watch on `/config`; then the setData
 * that fires them all (timed to its reply, and to the last watcher's event), then setData of an
 * unrelated node while none of the watchers has sent a request since (their events' epoch entries
 * are still pending). Rounds repeat the registration; the last round is the byte-counted one.
 */
export function watchersPlan(
  target: ScaleTarget,
  connect: () => Promise<FaaSKeeperClient>,
  progress: (line: string) => void,
) {
  const plan: DimensionPlan = async (s, zk, size) => {
    await zk.create('/config', DATA);
    await zk.create('/other', DATA);
    let events = 0;
    let allIn: (() => void) | undefined;
    const watcher = () => {
      events++;
      if (events === size) allIn?.();
    };
    const setup = setupOf(target, progress);
    const watchers = await openMany(size, setup.inFlight, 'connected watchers', progress, () =>
      setup.retry('connect', connect),
    );
    const register = () =>
      mapLimit(watchers, setup.inFlight, (c) =>
        setup.retry('getData watch', () => c.getData('/config', { watch: watcher })),
      );
    const fire: OpAtSize[] = [];
    const delivered: number[] = [];
    const unrelated: OpAtSize[] = [];
    const rounds = 3;
    for (let r = 0; r < rounds; r++) {
      await register();
      progress(`  round ${r + 1}/${rounds}: ${size} watches registered`);
      events = 0;
      const all = new Promise<void>((resolve) => {
        allIn = resolve;
      });
      // An unrelated write first: after the registrations the functions' poll loops may be idle,
      // and the fire would otherwise be timed from their back-off, not from its own work.
      await zk.setData('/other', DATA);
      const t0 = performance.now();
      const fired = await s.time(1, () => zk.setData('/config', DATA), 0);
      await all;
      delivered.push(performance.now() - t0);
      fire.push({ size, ...fired, systemStoreBytes: 0, userStoreBytes: 0 });
      const next = await s.time(s.run.meter === undefined ? 20 : 5, () => zk.setData('/other', DATA));
      unrelated.push({ size, ...next, systemStoreBytes: 0, userStoreBytes: 0 });
    }
    // One more round, byte-counted and untimed.
    await register();
    const fireBytes = await s.countBytes(() => zk.setData('/config', DATA), 1);
    const nextBytes = await s.countBytes(() => zk.setData('/other', DATA));
    // The epoch of every watcher is now on the writer state and the records.
    await s.inspect();
    const mean = (xs: number[]) => round3(xs.reduce((a, b) => a + b, 0) / xs.length);
    const merge = (xs: OpAtSize[], bytes: { systemStore: number; userStore: number }): OpAtSize => {
      const p50 = xs.map((x) => x.p50Ms).sort((a, b) => a - b);
      const units = xs[xs.length - 1]?.units;
      return {
        size,
        runs: xs.reduce((a, x) => a + x.runs, 0),
        p50Ms: p50[Math.floor(p50.length / 2)] ?? 0,
        meanMs: mean(xs.map((x) => x.meanMs)),
        p99Ms: Math.max(...xs.map((x) => x.p99Ms)),
        systemStoreBytes: bytes.systemStore,
        userStoreBytes: bytes.userStore,
        ...(units === undefined ? {} : { units }),
      };
    };
    const fireOp = merge(fire, fireBytes);
    const deliveredSorted = [...delivered].sort((a, b) => a - b);
    const fireToLastEvent: OpAtSize = {
      ...fireOp,
      p50Ms: round3(deliveredSorted[Math.floor(deliveredSorted.length / 2)] ?? 0),
      meanMs: mean(delivered),
      p99Ms: round3(Math.max(...delivered)),
    };
    await mapLimit(watchers, setup.inFlight, (c) => c.close());
    return { fireWrite: fireOp, fireToLastEvent, nextUnrelatedWrite: merge(unrelated, nextBytes) };
  };
  return plan;
}

/**
 * Sessions holding state: `size` sessions, each with an ephemeral node, a persistent recursive
 * watch (all on `/pw`) and two one-shot watches (a data watch on `/q`, which they all watch, and an
 * `exists` watch on a path of its own), idle while another one writes and reads. The item report
 * is taken with every session's state in place (docs/scale.md §3: no item grows with them).
 */
export function sessionsPlan(
  target: ScaleTarget,
  connect: () => Promise<FaaSKeeperClient>,
  progress: (line: string) => void,
) {
  const plan: DimensionPlan = async (s, zk, size) => {
    for (const p of ['/s', '/e', '/pw', '/q', '/m']) await zk.create(p, DATA);
    const setup = setupOf(target, progress);
    const idle = await openMany(
      size,
      setup.inFlight,
      'connected sessions (ephemeral, persistent and one-shot watches)',
      progress,
      (i) =>
        setup.session(`session ${i}`, connect, async (c) => {
          // A create retried after a timeout may find the node its first attempt made.
          await setup.retry('create ephemeral', () =>
            c.create(`/e/s${i}`, DATA, { mode: 'EPHEMERAL' }).catch((error: unknown) => {
              if (error instanceof FaaSKeeperError && error.code === 'NODEEXISTS') return `/e/s${i}`;
              throw error;
            }),
          );
          await setup.retry('addWatch', () => c.addWatch('/pw', () => {}, 'PERSISTENT_RECURSIVE'));
          await setup.retry('getData watch', () => c.getData('/q', { watch: () => {} }));
          await setup.retry('exists watch', () => c.exists(`/m/${i}`, { watch: () => {} }));
        }),
    );
    await s.inspect();
    const out = {
      setData: await s.measure(size, () => zk.setData('/s', DATA)),
      getData: await s.measure(size, () => zk.getData('/s')),
    };
    // Before the closes, which take a while with thousands of sessions on a cloud emulator: a run
    // stopped during them still has its figures.
    progress(`  measured at ${size}: ${JSON.stringify({ ops: out, items: s.items })}`);
    await openMany(idle.length, setup.inFlight, 'closed sessions', progress, (i) => idle[i]!.close());
    return out;
  };
  return plan;
}

/** Children per parent in the nodes dimension's tree: `/t/g<k>/c…`. */
const NODES_PER_GROUP = 1000;

/**
 * Nodes in the tree: `size` nodes as groups of {@link NODES_PER_GROUP} children under `/t`, so no
 * parent grows with the size; then setData and getData of nodes picked by a seeded generator.
 */
export function nodesPlan(target: ScaleTarget, progress: (line: string) => void): DimensionPlan {
  return async (s, zk, size) => {
    await zk.create('/t');
    const groups = Math.max(1, Math.ceil(size / NODES_PER_GROUP));
    const inGroup = (g: number) => Math.min(NODES_PER_GROUP, size - g * NODES_PER_GROUP);
    for (let g = 0; g < groups; g++) {
      await zk.create(`/t/g${g}`);
      await fillChildren(zk, `/t/g${g}`, inGroup(g), target.fillBatch, target.fillInFlight);
      if ((g + 1) % Math.max(1, Math.ceil(groups / 10)) === 0)
        progress(`  filled ${Math.min(size, (g + 1) * NODES_PER_GROUP)}/${size} nodes`);
    }
    // A fixed-seed linear congruential generator: the same nodes at every run.
    let seed = 12345;
    const pick = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const g = seed % groups;
      return `/t/g${g}/${childName(Math.floor(seed / groups) % inGroup(g))}`;
    };
    return {
      setData: await s.measure(size, () => zk.setData(pick(), DATA)),
      getData: await s.measure(size, () => zk.getData(pick())),
    };
  };
}
