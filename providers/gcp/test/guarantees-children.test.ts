// The core's children guarantees on the local GCP stack (getChildren over the child index: the child
// set of one zxid under concurrent creates and deletes, re-created names, 100,000 children in full),
// pull invocation with the Datastore user store and push invocation with Cloud Storage, in a file
// of its own because filling 100,000 children takes minutes.
import { describeGuaranteesOnLocalStack } from './support.js';

describeGuaranteesOnLocalStack('pull', ['children']);
describeGuaranteesOnLocalStack('push', ['children']);
