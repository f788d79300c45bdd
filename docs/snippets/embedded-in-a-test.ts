/**
 * A whole vitest test file on the embedded deployment (docs/getting-started.md shows all of it, its
 * imports too, so that it runs alone: `npx vitest run`). It registers its tests when imported, so
 * packages/cli/test/docs-snippets.test.ts runs it as part of the build.
 */
// #region vitest
import type { FaaSKeeperClient } from '@faaskeeper/client';
import { createEmbeddedService, type EmbeddedService } from '@faaskeeper/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

describe('feature flags', () => {
  let service: EmbeddedService;
  let zk: FaaSKeeperClient;

  beforeEach(async () => {
    service = createEmbeddedService(); // a fresh deployment per test: in memory, in milliseconds
    zk = await service.connect();
  });
  afterEach(() => service.close());

  it('notifies a reader when another session flips a flag', async () => {
    await zk.create('/flags');
    await zk.create('/flags/dark-mode', 'off');
    const seen: string[] = [];
    await zk.getData('/flags/dark-mode', { watch: (event) => seen.push(event.type) });

    const other = await service.connect(); // a second session, as another process would have
    await other.setData('/flags/dark-mode', 'on');

    await zk.sync(); // everything acknowledged to anyone so far is now visible to zk
    expect(seen).toEqual(['NodeDataChanged']);
    expect(new TextDecoder().decode((await zk.getData('/flags/dark-mode')).data)).toBe('on');
  });
});
// #endregion vitest
