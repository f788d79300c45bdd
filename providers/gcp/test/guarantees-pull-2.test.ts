// Core's guarantee suite on the local GCP stack (one stack for the file, a fresh deployment per
// test), pull invocation: the writer and distributor run by in-process pollers on ordered pull
// subscriptions; node records in Datastore. Errors, ACLs, multi, containers and TTLs, sessions and
// pipelining; the other areas are in guarantees-pull-1.
import { describeGuaranteesOnLocalStack } from './support.js';

describeGuaranteesOnLocalStack('pull', [
  'errors',
  'acls',
  'multi',
  'containers-ttl',
  'sessions',
  'pipelining',
]);
