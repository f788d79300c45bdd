/**
 * Getting started, watches: a whole program (see getting-started-first-steps.ts for how it is shown
 * and checked).
 */
// #region program
import assert from 'node:assert/strict';
import type { WatchedEvent } from '@faaskeeper/client';
import { createEmbeddedService } from '@faaskeeper/core';

const service = createEmbeddedService();
const reader = await service.connect();
const writer = await service.connect();
await writer.create('/config', 'color=blue');

const events: WatchedEvent[] = [];
// A one-shot watch: fires once, on the next change of /config.
await reader.getData('/config', { watch: (event) => events.push(event) });
// A persistent, recursive watch: fires for /config and everything below it until removed.
await reader.addWatch('/config', (event) => events.push(event), 'PERSISTENT_RECURSIVE');

await writer.setData('/config', 'color=green');
// Ordered notifications: once the reader sees the new data, it has already seen the event.
const { data } = await reader.getData('/config');
assert.equal(new TextDecoder().decode(data), 'color=green');
assert.deepEqual(events, [
  { type: 'NodeDataChanged', path: '/config' },
  { type: 'NodeDataChanged', path: '/config' },
]);
await service.close();
console.log('watches: events', JSON.stringify(events));
// #endregion program
