// Core's guarantee suite on the local GCP stack (one stack for the file, a fresh deployment per
// test), pull invocation: the writer and distributor run by in-process pollers on ordered pull
// subscriptions; node records in Datastore. Watches, ordering, atomic reads, stat, sync and sequential
// nodes; the other areas are in guarantees-pull-2 (split so that vitest can run the files in parallel).
import { describeGuaranteesOnLocalStack } from './support.js';

describeGuaranteesOnLocalStack('pull', ['watches', 'ordering', 'atomic-reads', 'stat', 'sync', 'sequential']);
