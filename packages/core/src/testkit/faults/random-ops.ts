/**
 * The operations of a randomised run: what each client issues (reads, scans, watched reads,
 * writes, multis on paired paths), recorded in the history with the outcome the client learned.
 */
import type { FaaSKeeperClient } from '../../client/client.js';
import type { Op } from '../../client/types.js';
import { FaaSKeeperError } from '../../model/errors.js';
import type { Operation } from '../linearizability/checker.js';
import type { HistoryRecorder } from '../linearizability/history.js';
import type { ZInput, ZMultiOp, ZOutput } from '../linearizability/znode-model.js';
import type { Rng } from './prng.js';

const decoder = new TextDecoder();
/** Errors after which a write may or may not have applied. */
export const MAYBE_APPLIED = new Set(['CONNECTIONLOSS', 'OPERATIONTIMEOUT', 'SESSIONEXPIRED']);
/** Errors that say for sure what happened (the model predicts them). */
export const DEFINITE = new Set(['NONODE', 'NODEEXISTS', 'BADVERSION']);

/** A write whose outcome its client did not learn: a late reply under its seq may settle it. */
export interface UnresolvedWrite {
  op: Operation<ZInput, ZOutput>;
  session: number;
  seq: number;
}

/** What the clients' operations record, shared by every client of a run. */
export class RandomOps {
  readonly unresolved: UnresolvedWrite[] = [];
  /** One-shot watches set, and how many times each fired (more than once is a problem). */
  readonly watchFired = new Map<string, number>();
  unknownOutcomes = 0;

  constructor(
    private readonly history: HistoryRecorder<ZInput, ZOutput>,
    private readonly paths: readonly string[],
    private readonly problems: string[],
  ) {}

  /** Client `c`'s `n`th operation, drawn from `r`. */
  async run(c: number, n: number, zk: FaaSKeeperClient, r: Rng): Promise<void> {
    const { history, paths, problems } = this;
    // Drawn in this order whatever the roll, so that a seed replays the same run.
    const path = r.pick(paths);
    const version = r.chance(0.5) ? -1 : r.int(3);
    // Client 0 mostly scans: a reader racing the writers is what meets a half-applied batch.
    const roll = c === 0 && r.chance(0.6) ? 0 : r.next();
    if (roll < 0.1) {
      await this.scan(c, zk);
      return;
    }
    const { input, run } = this.draw(roll, { c, n, zk, r, path, version });
    const done = history.invoke(c, input);
    const pending = run();
    // The request's seq (the op issued it synchronously): a late reply tells how it ended.
    const seq = (zk as unknown as { seq: number }).seq;
    try {
      done(await pending);
    } catch (error) {
      if (error instanceof FaaSKeeperError && DEFINITE.has(error.code)) {
        done({ type: 'error', code: error.code as 'NONODE' });
      } else if (error instanceof FaaSKeeperError && MAYBE_APPLIED.has(error.code)) {
        // A failed read changed nothing and says nothing: leave it out. A write may have applied.
        if (input.op !== 'get' && input.op !== 'exists') {
          this.unknownOutcomes++;
          this.unresolved.push({ op: done({ type: 'unknown' }, true), session: zk.sessionNumber, seq });
        }
      } else {
        problems.push(`client ${c}: unexpected error for ${JSON.stringify(input)}: ${String(error)}`);
      }
    }
  }

  /** Reads every path in turn: a scan that races the writers. */
  private async scan(c: number, zk: FaaSKeeperClient): Promise<void> {
    for (const p of this.paths) {
      const done = this.history.invoke(c, { op: 'get', path: p });
      try {
        const { data: d, stat } = await zk.getData(p);
        done({ type: 'ok', data: decoder.decode(d), version: stat.version });
      } catch (error) {
        if (error instanceof FaaSKeeperError && error.code === 'NONODE')
          done({ type: 'error', code: 'NONODE' });
        else if (!(error instanceof FaaSKeeperError && MAYBE_APPLIED.has(error.code)))
          this.problems.push(`client ${c}: unexpected error reading ${p}: ${String(error)}`);
      }
    }
  }

  /** The operation a roll picks, as its history input and the call that performs it. */
  private draw(
    roll: number,
    {
      c,
      n,
      zk,
      r,
      path,
      version,
    }: { c: number; n: number; zk: FaaSKeeperClient; r: Rng; path: string; version: number },
  ): { input: ZInput; run: () => Promise<ZOutput> } {
    const data = `c${c}.${n}`;
    if (roll < 0.25)
      return {
        input: { op: 'get', path },
        run: async () => {
          const { data: d, stat } = await zk.getData(path);
          return { type: 'ok', data: decoder.decode(d), version: stat.version };
        },
      };
    if (roll < 0.3) {
      const watch = this.watcher(`c${c}.${n} getData ${path}`, path);
      return {
        input: { op: 'get', path },
        run: async () => {
          const { data: d, stat } = await zk.getData(path, { watch });
          return { type: 'ok', data: decoder.decode(d), version: stat.version };
        },
      };
    }
    if (roll < 0.4) {
      const watch = r.chance(0.3) ? this.watcher(`c${c}.${n} exists ${path}`, path) : undefined;
      return {
        input: { op: 'exists', path },
        run: async () => {
          const stat = await zk.exists(path, watch !== undefined ? { watch } : {});
          return { type: 'ok', version: stat === null ? null : stat.version };
        },
      };
    }
    if (roll < 0.6)
      return {
        input: { op: 'set', path, data, version },
        run: async () => ({ type: 'ok', version: (await zk.setData(path, data, { version })).version }),
      };
    if (roll < 0.78)
      return {
        input: { op: 'create', path, data },
        run: async () => {
          await zk.create(path, data);
          return { type: 'ok' };
        },
      };
    if (roll < 0.92)
      return {
        input: { op: 'delete', path, version },
        run: async () => {
          await zk.delete(path, { version });
          return { type: 'ok' };
        },
      };
    const ops = this.multiOps(path, data, r);
    return {
      input: { op: 'multi', ops },
      run: async () => {
        await zk.multi(ops.map(toClientOp));
        return { type: 'ok' };
      },
    };
  }

  /**
   * A multi pairing `/k0` with `/k1`, `/k2` with `/k3`, ...: atomicity across paths is tested
   * while the checker can still split the history into small independent parts.
   */
  private multiOps(path: string, data: string, r: Rng): ZMultiOp[] {
    const other = this.paths[this.paths.indexOf(path) ^ 1] ?? path;
    switch (r.int(4)) {
      case 0:
        return [
          { op: 'check', path, version: r.int(3) },
          { op: 'set', path: other, data, version: -1 },
        ];
      case 1:
        return [
          { op: 'create', path, data },
          { op: 'create', path: other, data },
        ];
      case 2:
        return [
          { op: 'delete', path, version: -1 },
          { op: 'delete', path: other, version: -1 },
        ];
      default:
        return [
          { op: 'set', path, data, version: -1 },
          { op: 'set', path: other, data, version: -1 },
        ];
    }
  }

  /** A one-shot watch that counts its firings and checks the path it fires for. */
  private watcher(id: string, path: string): (event: { path: string }) => void {
    this.watchFired.set(id, 0);
    return (event) => {
      this.watchFired.set(id, (this.watchFired.get(id) ?? 0) + 1);
      if (event.path !== path) this.problems.push(`watch ${id} fired for ${event.path}`);
    };
  }
}

function toClientOp(op: ZMultiOp): Op {
  switch (op.op) {
    case 'create':
      return { op: 'create', path: op.path, data: op.data };
    case 'set':
      return { op: 'setData', path: op.path, data: op.data, version: op.version };
    case 'delete':
      return { op: 'delete', path: op.path, version: op.version };
    case 'check':
      return { op: 'check', path: op.path, version: op.version };
  }
}
