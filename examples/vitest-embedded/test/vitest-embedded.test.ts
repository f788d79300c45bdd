/**
 * How to test your own FaaSKeeper code: embed a deployment per test. It runs the real writer,
 * distributor and heartbeat in memory, so a test takes milliseconds; a ManualClock makes session
 * expiry a matter of `clock.advance()`, not of waiting.
 */
import { createEmbeddedService, type EmbeddedService, ManualClock } from '@faaskeeper/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { instances, register } from '../src/registry.js';

describe('service registry (embedded deployment per test)', () => {
  let clock: ManualClock;
  let service: EmbeddedService;

  // #region setup
  beforeEach(() => {
    clock = new ManualClock();
    service = createEmbeddedService({ clock, sessionTimeoutMs: 3000, heartbeatIntervalMs: 500 });
  });

  afterEach(async () => {
    await service.close(); // closes every client and stops the deployment's functions
  });
  // #endregion setup

  it('lists the instances that registered, in order', async () => {
    const a = await service.connect();
    const b = await service.connect();
    await register(a, 'api', 'a:1');
    await register(b, 'api', 'b:1');
    expect(await instances(a, 'api')).toEqual(['a:1', 'b:1']);
    expect(await instances(a, 'missing')).toEqual([]);
  });

  it('drops an instance whose process vanished once its session expires', async () => {
    const watcher = await service.connect();
    const crashed = await service.connect();
    await register(crashed, 'api', 'crashed:1');
    expect(await instances(watcher, 'api')).toEqual(['crashed:1']);
    // #region expiry
    service.partition(crashed); // the process is gone: no more pings
    // Past the session timeout + clock skew allowance (1 s) + a heartbeat interval, in small steps
    // so that the live client keeps pinging.
    for (let t = 0; t < 5000; t += 250) await clock.advance(250);
    await watcher.sync();
    expect(await instances(watcher, 'api')).toEqual([]);
    // #endregion expiry
  });

  it('runs the example end to end', async () => {
    expect(await main()).toEqual({ before: ['10.0.0.1:8080', '10.0.0.2:8080'], after: ['10.0.0.1:8080'] });
  });
});
