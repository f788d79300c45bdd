// Core's guarantee suite on the local GCP stack (one stack for the file, a fresh deployment per
// test), push invocation: the functions served over HTTP by the functions framework and invoked by
// the Pub/Sub emulator's ordered push subscriptions, one message per invocation. Errors, ACLs, multi,
// containers and TTLs, sessions and pipelining; the other areas are in guarantees-push-1.
import { describeGuaranteesOnLocalStack } from './support.js';

describeGuaranteesOnLocalStack('push', [
  'errors',
  'acls',
  'multi',
  'containers-ttl',
  'sessions',
  'pipelining',
]);
