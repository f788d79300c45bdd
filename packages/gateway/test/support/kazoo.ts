/**
 * Runs kazoo's recipes script (`compat/kazoo/recipes.py`) against a connect string and asserts the
 * recipes' guarantees on its results: shared by the runs on ZooKeeper, on the embedded gateway and on
 * the gateway over the local AWS stack.
 */
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { keepTranscript } from './normalise.js';
import { runProcess } from './process.js';

const SCRIPT = fileURLToPath(new URL('../compat/kazoo/recipes.py', import.meta.url));
/** Debian's interpreter: python3-kazoo is installed for it, not for whatever python3 is first on PATH. */
const PYTHON = process.env.KAZOO_PYTHON ?? '/usr/bin/python3';

/** The JSON the script prints, loosely typed: every recipe reports its own fields. */
export type Results = Record<string, Record<string, unknown>>;

/** Runs the recipes against `hosts` under `root`; killed by its PID after `timeoutMs`. */
export async function runRecipes(
  hosts: string,
  root: string,
  label: string,
  timeoutMs = 90_000,
): Promise<Results> {
  const run = await runProcess(PYTHON, [SCRIPT, hosts, root], { timeoutMs });
  keepTranscript(`kazoo.${label}.json`, `${run.stdout}\n--- stderr ---\n${run.stderr}`);
  if (run.code !== 0) throw new Error(`recipes.py exited ${run.code}:\n${run.stderr.slice(-3000)}`);
  return JSON.parse(run.stdout) as Results;
}

/** The recipes' guarantees, asserted on one server's results. */
export function assertGuarantees(r: Results): void {
  for (const [name, result] of Object.entries(r)) {
    expect(result.errors ?? [], `${name} errors`).toEqual([]);
  }
  // Lock: 4 sessions × 3 acquisitions, never two holders at once, no contender node left behind.
  expect(r.lock).toMatchObject({ acquisitions: 12, max_holders: 1, contender_nodes_left: 0 });
  // Election: every candidate led once, one at a time, and all were contenders while the first led.
  expect(r.election).toMatchObject({ leaders: ['c0', 'c1', 'c2', 'c3'], max_leading: 1 });
  expect(r.election?.contenders_while_first_led).toEqual(['c0', 'c1', 'c2', 'c3']);
  // Counter: 100 concurrent compare-and-set increments, none lost.
  expect(r.counter).toMatchObject({ value: 100, expected: 100, float_value: 1.25 });
  // Queue: priority then FIFO for one consumer; raced items each taken exactly once, in order.
  expect(r.queue).toMatchObject({
    single_consumer_order: ['urgent', 'item-0', 'item-1', 'item-2', 'item-3', 'item-4', 'item-5', 'late'],
    raced_items_taken: 20,
    raced_items_distinct: 20,
    raced_each_consumer_in_order: true,
    length_after: 0,
  });
  // LockingQueue: 13 items consumed once each, a released item handed out again, priority 1 first.
  expect(r.locking_queue).toMatchObject({
    consumed: 13,
    distinct: 13,
    released_item_consumed_later: true,
    first_item_first: true,
    length_after: 0,
  });
  // Party and ShallowParty membership, before and after one member leaves.
  expect(r.party).toMatchObject({
    members: ['member-0', 'member-1', 'member-2', 'member-3'],
    count: 4,
    after_one_left: ['member-0', 'member-2', 'member-3'],
    shallow_members: ['s-0', 's-1', 's-2', 's-3'],
    shallow_after_one_left: ['s-0', 's-1', 's-3'],
  });
  // Barrier holds until removed, then releases every waiter; DoubleBarrier lets all 4 in and out.
  expect(r.barrier).toMatchObject({
    passed_before_removal: 0,
    waiters_released: [true, true, true],
    double_entered: 4,
    double_left: 4,
  });
  // DataWatch and ChildrenWatch: one callback per change, with the right data/version/event.
  expect(r.data_watch).toMatchObject({
    all_seen: true,
    callbacks: [
      { data: 'v0', version: 0, event: null },
      { data: 'v1', version: 1, event: 'CHANGED' },
      { data: 'v2', version: 2, event: 'CHANGED' },
      { data: null, version: null, event: 'DELETED' },
      { data: 'again', version: 0, event: 'CREATED' },
    ],
  });
  expect(r.children_watch).toMatchObject({
    all_seen: true,
    callbacks: [[], ['a'], ['a', 'b'], ['a', 'b', 'e'], ['b', 'e'], ['b']],
  });
}

/** Drops the fields that depend on timing (durations), keeping what must be equal across servers. */
export function deterministic(r: Results): Results {
  return Object.fromEntries(
    Object.entries(r).map(([name, { seconds: _seconds, ...rest }]) => [name, rest]),
  ) as Results;
}
