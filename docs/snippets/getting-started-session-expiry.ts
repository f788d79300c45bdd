/**
 * Getting started, session expiry under a manual clock: a whole program (see
 * getting-started-first-steps.ts for how it is shown and checked).
 */
// #region program
import assert from 'node:assert/strict';
import { CreateMode, type WatchedEvent } from '@faaskeeper/client';
import { createEmbeddedService, ManualClock } from '@faaskeeper/core';

// A ManualClock: session timeouts pass when the program says so, not in real time.
const clock = new ManualClock();
const service = createEmbeddedService({ clock, sessionTimeoutMs: 5_000 });
const owner = await service.connect();
const observer = await service.connect();
await owner.create('/leader', 'owner', { mode: CreateMode.EPHEMERAL });

const events: WatchedEvent[] = [];
await observer.exists('/leader', { watch: (event) => events.push(event) });

service.partition(owner); // the owner's process hangs: it stops renewing its session
// Expiry takes the session timeout + the clock-skew margin (1 s) + a heartbeat run (every 1 s).
// Small steps let the observer's pings renew its own session on the way.
for (let t = 0; t < 8_000; t += 250) await clock.advance(250);
await observer.sync();
assert.equal(await observer.exists('/leader'), null);
assert.deepEqual(events, [{ type: 'NodeDeleted', path: '/leader' }]);

service.heal(owner); // back online, the owner learns that its session is over
assert.equal(owner.state, 'EXPIRED');
console.log('session expiry: /leader is gone, the owner is', owner.state);
await service.close();
// #endregion program
