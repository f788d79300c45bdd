/**
 * The getting-started guide's examples (docs/getting-started.md includes the regions verbatim).
 * `run()` executes them against the embedded deployment; packages/cli/test/docs-snippets.test.ts
 * calls it, so a sample that stops working fails the build.
 */
// #region imports
import assert from 'node:assert/strict';
import { CreateMode, type WatchedEvent } from '@faaskeeper/client';
import { createEmbeddedService, ManualClock } from '@faaskeeper/core';
// #endregion imports

/** Runs every example of the guide. */
export async function run(): Promise<void> {
  await firstSteps();
  await watches();
  await sessionExpiry();
}

async function firstSteps(): Promise<void> {
  // #region first-steps
  const service = createEmbeddedService();
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
  // #endregion first-steps
}

async function watches(): Promise<void> {
  const service = createEmbeddedService();
  // #region watches
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
  // #endregion watches
  await service.close();
}

async function sessionExpiry(): Promise<void> {
  // #region session-expiry
  // A ManualClock: session timeouts pass when the test says so, not in real time.
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
  await service.close();
  // #endregion session-expiry
}
