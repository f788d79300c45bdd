// The recipes' retries after a lost reply (CONNECTIONLOSS / OPERATIONTIMEOUT): three more attempts,
// nothing else retried; a protected create adopts the node its lost create made, even the last one.
import { describe, expect, it } from 'vitest';
import { type FaaSKeeperClient, FaaSKeeperError, isFaaSKeeperError } from '../../src/index.js';
import { createProtected, withRetry } from '../../src/recipes/util.js';

const lost = () => new FaaSKeeperError('CONNECTIONLOSS', 'CONNECTIONLOSS: reply lost');

/**
 * A client whose creates all lose their reply; the create numbered `appliedAt` (if any) took effect
 * nonetheless, so the node shows up among the parent's children from then on.
 */
function lossyClient(appliedAt: number | undefined): { zk: FaaSKeeperClient; creates: () => number } {
  let creates = 0;
  const children: string[] = [];
  const zk = {
    state: 'CONNECTED',
    create: async (path: string) => {
      creates++;
      if (creates === appliedAt) children.push(path.slice(path.lastIndexOf('/') + 1));
      throw lost();
    },
    sync: async () => undefined,
    getChildren: async () => ({ children: [...children] }),
  } as unknown as FaaSKeeperClient;
  return { zk, creates: () => creates };
}

describe('recipe retries', () => {
  it('withRetry tries a call lost to CONNECTIONLOSS four times in all, then throws the last loss', async () => {
    let calls = 0;
    const failure = await withRetry(async () => {
      calls++;
      throw lost();
    }).catch((error: unknown) => error);
    expect(isFaaSKeeperError(failure, 'CONNECTIONLOSS')).toBe(true);
    expect(calls).toBe(4);
  });

  it('withRetry does not retry an answer (NONODE)', async () => {
    let calls = 0;
    const failure = await withRetry(async () => {
      calls++;
      throw new FaaSKeeperError('NONODE', 'NONODE: /x');
    }).catch((error: unknown) => error);
    expect(isFaaSKeeperError(failure, 'NONODE')).toBe(true);
    expect(calls).toBe(1);
  });

  it('createProtected adopts the node made by a create whose reply was lost, the last one included', async () => {
    const { zk, creates } = lossyClient(4);
    const path = await createProtected(zk, '/locks', 'lock-', new Uint8Array(), 'EPHEMERAL_SEQUENTIAL');
    expect(path).toMatch(/^\/locks\/_c_[0-9a-f-]{36}-lock-$/);
    expect(creates()).toBe(4);
  });

  it('createProtected throws the loss after four creates that left no node', async () => {
    const { zk, creates } = lossyClient(undefined);
    const failure = await createProtected(
      zk,
      '/locks',
      'lock-',
      new Uint8Array(),
      'EPHEMERAL_SEQUENTIAL',
    ).catch((error: unknown) => error);
    expect(isFaaSKeeperError(failure, 'CONNECTIONLOSS')).toBe(true);
    expect(creates()).toBe(4);
  });
});
