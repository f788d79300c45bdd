/**
 * Getting started, first steps: a whole program (docs/getting-started.md shows the `program` region,
 * which a reader copies into a file and runs with `npx tsx file.ts`). packages/cli/test/docs-snippets.test.ts
 * runs it in the workspace, packages/cli/test/packaging.test.ts in a project that installed the packed packages.
 */
// #region program
import assert from 'node:assert/strict';
import { CreateMode } from '@faaskeeper/client';
import { createEmbeddedService } from '@faaskeeper/core';

const service = createEmbeddedService(); // the whole deployment, in this process
const zk = await service.connect({ sessionTimeoutMs: 10_000 });

await zk.create('/app', 'v1');
const { data, stat } = await zk.getData('/app');
assert.equal(new TextDecoder().decode(data), 'v1');

// Conditional update: fails with BADVERSION if anyone wrote /app since we read it.
await zk.setData('/app', 'v2', { version: stat.version });

// An ephemeral, sequential node: it lives as long as this session.
const member = await zk.create('/app/member-', 'me', { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
assert.equal(member, '/app/member-0000000000');

await zk.close(); // the session ends: /app/member-0000000000 is deleted
await service.close();
console.log('first steps: created', member);
// #endregion program
