/**
 * Leader election: candidates join a {@link LeaderLatch}; the leader does a round of work and
 * steps down by closing its session, and the next candidate in line takes over.
 * @packageDocumentation
 */
import { pathToFileURL } from 'node:url';
import { LeaderLatch } from '@faaskeeper/client/recipes';
import { createEmbeddedService } from '@faaskeeper/core';

/** What a run of the example did. */
export interface ElectionRunResult {
  /** Who led, in order. */
  leaders: string[];
  /** Most candidates that believed they were leader at once (1 when the latch held). */
  maxLeaders: number;
  /** The work log: `<leader>: round <n>`. */
  work: string[];
}

/** Runs an election among `candidates` candidates until each has led once. */
export async function main(candidates = 3): Promise<ElectionRunResult> {
  const service = createEmbeddedService();
  const leaders: string[] = [];
  const work: string[] = [];
  let current = 0;
  let maxLeaders = 0;
  try {
    const members = await Promise.all(
      Array.from({ length: candidates }, async (_, i) => {
        const zk = await service.connect();
        // #region latch
        const latch = new LeaderLatch(zk, '/election/scheduler', { id: `candidate-${i}` });
        latch.on('isLeader', () => {
          current++;
          maxLeaders = Math.max(maxLeaders, current);
          leaders.push(latch.participantId);
        });
        latch.on('notLeader', () => current--);
        // #endregion latch
        return { zk, latch };
      }),
    );
    // Start one after the other: the start order is the order of succession.
    for (const { latch } of members) await latch.start();
    await Promise.all(
      members.map(async ({ zk, latch }) => {
        // #region lead
        await latch.await();
        // Leader's work: only the leader runs this part.
        work.push(`${latch.participantId}: round ${work.length + 1}`);
        await zk.setData('/election/scheduler', latch.participantId);
        // Step down: closing the latch (or the session) deletes its node and wakes the next in line.
        await latch.close();
        await zk.close();
        // #endregion lead
      }),
    );
    return { leaders, maxLeaders, work };
  } finally {
    await service.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await main();
  for (const line of result.work) console.log(line);
  console.log(`leaders in order: ${result.leaders.join(' → ')}`);
}
