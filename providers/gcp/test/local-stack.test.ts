// The local GCP stack starts the emulators itself, bound to 127.0.0.1 only, and stops them by the
// PIDs it recorded (the JVMs that listen, not wrapper shells).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { requireOrSkip } from '@faaskeeper/core/testkit';
import { describe, expect, it } from 'vitest';
import {
  freePort,
  missingEmulators,
  PortTakenError,
  startDatastoreEmulator,
  startLocalGcpStack,
  startOnPort,
  startPubSubEmulator,
} from '../src/local/index.js';

/** Local addresses the process `pid` listens on (TCP), from `ss`. */
function listening(pid: number): string[] {
  const out = execFileSync('ss', ['-H', '-ltnp'], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => line.includes(`pid=${pid},`))
    .map((line) => line.trim().split(/\s+/)[3] ?? '');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie (exited, not yet reaped) counts as gone.
    return !/^\d+ \([^)]*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('local GCP stack', () => {
  it('starts both emulators on 127.0.0.1 only and stops them by their PIDs', async (ctx) => {
    if (!requireOrSkip(ctx, missingEmulators(), 'the local GCP stack')) return;
    const stack = await startLocalGcpStack();
    const pids = [stack.datastore.pid, stack.pubsub.pid];
    try {
      for (const emulator of [stack.datastore, stack.pubsub]) {
        const addresses = listening(emulator.pid);
        // The recorded PID is the process that listens, on the port handed out.
        expect(addresses).toContain(`[::ffff:127.0.0.1]:${emulator.port}`);
        for (const address of addresses) expect(address).toMatch(/^(\[::ffff:)?127\.0\.0\.1\]?:\d+$/);
      }
    } finally {
      await stack.stop();
    }
    for (const pid of pids) expect(alive(pid)).toBe(false);
  }, 60_000);

  it('an emulator whose port is taken fails at once, and one given no port picks another', async (ctx) => {
    if (!requireOrSkip(ctx, missingEmulators(), 'the local GCP stack')) return;
    // Another process's listener on the port (what a port picked, released, then taken looks like).
    const holder = createServer();
    const held = await new Promise<number>((resolve) =>
      holder.listen(0, '127.0.0.1', () => resolve((holder.address() as { port: number }).port)),
    );
    try {
      // Without the check the Pub/Sub emulator would wait out its ready timeout (it lives on
      // without listening), and the Datastore one could pass for ready on the holder's port.
      await expect(startPubSubEmulator({ port: held })).rejects.toThrow(PortTakenError);
      await expect(startDatastoreEmulator({ port: held })).rejects.toThrow(PortTakenError);
      const picks = [held];
      const emulator = await startOnPort(
        undefined,
        (port) => startPubSubEmulator({ port }),
        async () => picks.shift() ?? freePort(),
      );
      try {
        expect(emulator.port).not.toBe(held);
        expect(listening(emulator.pid)).toContain(`[::ffff:127.0.0.1]:${emulator.port}`);
      } finally {
        await emulator.stop();
      }
      expect(alive(emulator.pid)).toBe(false);
    } finally {
      holder.close();
    }
  }, 90_000);
});
