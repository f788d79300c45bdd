// The scale benchmark (`pnpm bench:scale`) is a measuring tool, not a timed test: this checks the
// shape of what `--quick` prints on the embedded deployment and the arithmetic of its ratios,
// never the timings themselves.
import { describe, expect, it } from 'vitest';
import {
  embeddedScaleTarget,
  type OpAtSize,
  parseScaleArgs,
  QUICK_SIZES,
  ratioOf,
  SCALE_DIMENSIONS,
  scaleReport,
} from '../../src/bench/scale-bench.js';

/** The operations each dimension measures. */
const OPS = {
  children: ['createUnderEmptyParent', 'create', 'delete', 'setDataOfParent', 'getChildren'],
  watchers: ['fireWrite', 'fireToLastEvent', 'nextUnrelatedWrite'],
  sessions: ['setData', 'getData'],
  nodes: ['setData', 'getData'],
} as const;

/** Writes that change a record: the functions write both stores. */
const WRITES = new Set([
  'createUnderEmptyParent',
  'create',
  'delete',
  'setDataOfParent',
  'fireWrite',
  'fireToLastEvent',
  'nextUnrelatedWrite',
  'setData',
]);

describe('scale benchmark', () => {
  it('--quick on the embedded deployment reports every operation of every dimension at each size, with ratios', async () => {
    const options = {
      ...parseScaleArgs(['--quick'], { full: QUICK_SIZES, quick: QUICK_SIZES }),
      progress: () => {},
    };
    // Through JSON, as the command prints it.
    const report = JSON.parse(JSON.stringify(await scaleReport(embeddedScaleTarget, options)));
    expect(report).toMatchObject({ target: 'embedded', quick: true, opsPerSize: 10 });
    for (const dimension of SCALE_DIMENSIONS) {
      const result = report.dimensions[dimension];
      expect(result.stopped, dimension).toBeUndefined();
      expect(result.sizes).toEqual(QUICK_SIZES[dimension]);
      expect(result.setupSeconds).toHaveLength(result.sizes.length);
      expect(Object.keys(result.ops).sort()).toEqual([...OPS[dimension]].sort());
      for (const [op, series] of Object.entries<{ bySize: OpAtSize[]; ratio: Record<string, number> }>(
        result.ops,
      )) {
        expect(
          series.bySize.map((b) => b.size),
          `${dimension}.${op}`,
        ).toEqual(result.sizes);
        for (const at of series.bySize) {
          for (const key of ['p50Ms', 'meanMs', 'p99Ms'] as const) expect(at[key]).toBeGreaterThanOrEqual(0);
          expect(at.p99Ms).toBeGreaterThanOrEqual(at.p50Ms);
          expect(at.runs).toBeGreaterThan(0);
          // A write reaches both stores; a read writes nothing.
          if (WRITES.has(op)) {
            expect(at.systemStoreBytes, `${dimension}.${op}`).toBeGreaterThan(0);
            expect(at.userStoreBytes, `${dimension}.${op}`).toBeGreaterThan(0);
          } else expect(at.systemStoreBytes + at.userStoreBytes, `${dimension}.${op}`).toBe(0);
        }
        expect(series.ratio).toEqual(ratioOf(series.bySize));
        expect(series.ratio.meanMs, `${dimension}.${op}`).toBeGreaterThan(0);
      }
    }
    // Children are their own entries (docs/scale.md): a create, delete or setData of the parent
    // writes the same bytes with 10× the children (the zxids' digits aside), as under an empty parent.
    for (const op of ['create', 'delete', 'setDataOfParent', 'createUnderEmptyParent'] as const) {
      expect(report.dimensions.children.ops[op].ratio.systemStoreBytes, op).toBeLessThan(1.1);
      expect(report.dimensions.children.ops[op].ratio.userStoreBytes, op).toBeLessThan(1.1);
    }
    // Sessions holding ephemerals, a persistent watch and one-shot watches (docs/scale.md §3): the
    // report names the largest item of each kind, the same size at 100 sessions as at 10.
    const items = report.dimensions.sessions.items as {
      size: number;
      report: Record<string, { bytes: number }>;
    }[];
    expect(items.map((i) => i.size)).toEqual(QUICK_SIZES.sessions);
    const [few, many] = items;
    for (const kind of ['node', 'session', 'meta', 'watch', 'pwatch'])
      expect(many!.report[kind]!.bytes, kind).toBeLessThanOrEqual(few!.report[kind]!.bytes + 24);
    // The setData of an unrelated node writes the same bytes with 10× the sessions and watches.
    expect(report.dimensions.sessions.ops.setData.ratio.systemStoreBytes).toBeLessThan(1.1);
  }, 60_000);

  it('ratio is the largest size’s value over the smallest size’s, per metric, skipping a zero base', () => {
    const at = (size: number, ms: number, bytes: number, units?: Record<string, number>): OpAtSize => ({
      size,
      runs: 1,
      p50Ms: ms,
      meanMs: ms * 2,
      p99Ms: ms * 3,
      systemStoreBytes: bytes,
      userStoreBytes: 0,
      ...(units === undefined ? {} : { units }),
    });
    expect(
      ratioOf([
        at(10, 1, 100, { 'sqs.request': 2 }),
        at(100, 2.5, 150),
        at(1000, 4, 1000, { 'sqs.request': 3 }),
      ]),
    ).toEqual({
      p50Ms: 4,
      meanMs: 4,
      systemStoreBytes: 10,
      'units.sqs.request': 1.5,
    });
    expect(ratioOf([])).toEqual({});
  });

  it('rejects sizes that are not positive integers, and skips a dimension given as none', () => {
    const defaults = { full: QUICK_SIZES, quick: QUICK_SIZES };
    expect(() => parseScaleArgs(['--children', '10,abc'], defaults)).toThrow(/--children/);
    expect(() => parseScaleArgs(['--ops', '0'], defaults)).toThrow(/--ops/);
    const options = parseScaleArgs(['--nodes', 'none', '--children', '5,50'], defaults);
    expect(options.sizes.nodes).toBeUndefined();
    expect(options.sizes.children).toEqual([5, 50]);
  });
});
