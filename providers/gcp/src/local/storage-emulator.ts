import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './emulators.js';

/** A Cloud Storage emulator served by this process on 127.0.0.1. */
export interface RunningStorageEmulator {
  /** `http://127.0.0.1:<port>`, the `apiEndpoint` of a Storage client. */
  readonly endpoint: string;
  readonly port: number;
  /** Closes the server and deletes the emulator's blob directory. Idempotent. */
  stop(): Promise<void>;
}

const require = createRequire(import.meta.url);

/** Why the Cloud Storage emulator cannot start here, or `undefined` when it can. */
export function missingStorageEmulator(): string | undefined {
  try {
    require.resolve('firebase-tools/lib/emulator/storage/index.js');
    return undefined;
  } catch {
    return 'npm firebase-tools (its Cloud Storage emulator) is not installed';
  }
}

interface StorageEmulatorModule {
  StorageEmulator: new (
    args: Record<string, unknown>,
  ) => {
    getPersistenceTmpDir(): string;
    _persistence?: { deleteAll(): Promise<void> };
  };
}

let running: Promise<RunningStorageEmulator> | undefined;

/**
 * Starts Firebase's Cloud Storage emulator (the Node code inside npm `firebase-tools`) in this
 * process on 127.0.0.1, without its Java rules runtime: the GCS JSON API it serves is admin-only
 * and needs no rules. Its blobs go to a private temporary directory, deleted on stop. Firebase's
 * emulator registry is one per process, so so is this emulator: a second call answers the first.
 *
 * Gaps (EMULATORS.md): bucket create and setMetadata answer 501 (buckets appear on first upload);
 * `ifGenerationMatch` preconditions are ignored.
 */
export function startStorageEmulator(options: { projectId?: string } = {}): Promise<RunningStorageEmulator> {
  running ??= start(options.projectId ?? 'faaskeeper-local').catch((error) => {
    running = undefined;
    throw error;
  });
  return running;
}

async function start(projectId: string): Promise<RunningStorageEmulator> {
  const missing = missingStorageEmulator();
  if (missing !== undefined) throw new Error(`cannot start the Cloud Storage emulator: ${missing}`);
  const { StorageEmulator } =
    require('firebase-tools/lib/emulator/storage/index.js') as StorageEmulatorModule;
  const { createApp } = require('firebase-tools/lib/emulator/storage/server.js') as {
    createApp(
      projectId: string,
      emulator: unknown,
    ): Promise<{ listen(port: number, host: string, cb: () => void): Server }>;
  };
  const { EmulatorRegistry } = require('firebase-tools/lib/emulator/registry.js') as {
    EmulatorRegistry: { set(name: string, instance: unknown): void; clear(name: string): void };
  };
  const blobs = join(tmpdir(), `faaskeeper-gcs-${process.pid}`);
  class LocalStorageEmulator extends StorageEmulator {
    // The default is one directory shared by every emulator on the machine.
    override getPersistenceTmpDir(): string {
      return blobs;
    }
  }
  const port = await freePort();
  const emulator = new LocalStorageEmulator({ projectId, host: '127.0.0.1', port, auto_download: false });
  // The emulator builds object URLs from the registry's host and port.
  EmulatorRegistry.set('storage', emulator);
  const app = await createApp(projectId, emulator);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop() {
      stopping ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await emulator._persistence?.deleteAll().catch(() => undefined);
        EmulatorRegistry.clear('storage');
        running = undefined;
      })();
      return stopping;
    },
  };
}
