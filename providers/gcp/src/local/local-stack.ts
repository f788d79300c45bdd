import { Datastore } from '@google-cloud/datastore';
import { PubSub } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { closePubSubClients } from '../pubsub-client.js';
import {
  missingEmulators,
  type RunningEmulator,
  startDatastoreEmulator,
  startPubSubEmulator,
} from './emulators.js';
import {
  missingStorageEmulator,
  type RunningStorageEmulator,
  startStorageEmulator,
} from './storage-emulator.js';

/** Options of {@link startLocalGcpStack}. */
export interface LocalGcpStackOptions {
  /** Project id the emulators and clients use. Default `faaskeeper-local`. */
  projectId?: string;
  /** Fixed ports on 127.0.0.1; default free ones. */
  datastorePort?: number;
  pubsubPort?: number;
  /**
   * Also start the Cloud Storage emulator (in this process; needs npm `firebase-tools`). Default:
   * when it is installed.
   */
  storage?: boolean;
}

/** The emulators of a local GCP stack and clients bound to them. */
export interface LocalGcpStack {
  readonly projectId: string;
  readonly datastore: RunningEmulator;
  readonly pubsub: RunningEmulator;
  /** A Datastore client on the emulator (one gRPC channel, shared by adapters). */
  readonly datastoreClient: Datastore;
  /** A Pub/Sub client on the emulator. */
  readonly pubsubClient: PubSub;
  /** The Cloud Storage emulator and a client on it, when started. */
  readonly storage?: RunningStorageEmulator;
  readonly storageClient?: Storage;
  /** Stops both emulators by their PIDs and closes the clients. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the Datastore emulator (in memory) and the Pub/Sub emulator as child JVMs on 127.0.0.1,
 * each recorded by PID and stopped by it (also when this process exits), the Cloud Storage emulator
 * in this process when npm `firebase-tools` is installed, and makes clients for them.
 * @throws Error naming what is missing when the Google Cloud SDK's emulators or Java are absent.
 */
export async function startLocalGcpStack(options: LocalGcpStackOptions = {}): Promise<LocalGcpStack> {
  const missing = missingEmulators();
  if (missing !== undefined) throw new Error(`cannot start the local GCP stack: ${missing}`);
  // The Google auth library otherwise probes the cloud metadata server (a slow timeout off-cloud).
  process.env.METADATA_SERVER_DETECTION ??= 'none';
  const projectId = options.projectId ?? 'faaskeeper-local';
  const started = await Promise.allSettled([
    startDatastoreEmulator(options.datastorePort === undefined ? {} : { port: options.datastorePort }),
    startPubSubEmulator(options.pubsubPort === undefined ? {} : { port: options.pubsubPort }),
  ]);
  const [ds, ps] = started;
  if (ds.status === 'rejected' || ps.status === 'rejected') {
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    throw ds.status === 'rejected' ? ds.reason : (ps as PromiseRejectedResult).reason;
  }
  const datastore = ds.value;
  const pubsub = ps.value;
  let storage: RunningStorageEmulator | undefined;
  if (options.storage ?? missingStorageEmulator() === undefined) {
    try {
      storage = await startStorageEmulator({ projectId });
    } catch (error) {
      await Promise.all([datastore.stop(), pubsub.stop()]);
      throw error;
    }
  }
  const storageClient =
    storage === undefined ? undefined : new Storage({ projectId, apiEndpoint: storage.endpoint });
  const datastoreClient = new Datastore({ projectId, apiEndpoint: datastore.host });
  const pubsubClient = new PubSub({ projectId, apiEndpoint: pubsub.host });
  let stopping: Promise<void> | undefined;
  return {
    projectId,
    datastore,
    pubsub,
    datastoreClient,
    pubsubClient,
    ...(storage === undefined ? {} : { storage }),
    ...(storageClient === undefined ? {} : { storageClient }),
    stop() {
      stopping ??= (async () => {
        await closePubSubClients(pubsubClient);
        await Promise.allSettled([datastoreClient.clients_.get('DatastoreClient')?.close?.()]);
        await Promise.all([datastore.stop(), pubsub.stop(), storage?.stop()]);
      })();
      return stopping;
    },
  };
}
