// Hostile clients on the local GCP stack (docs/guarantees.md "Security model"), push invocation: a
// client with the client account's access (the writer topic, every channel subscription) but not
// the victim's session secret cannot act as, replay, read or disturb the victim's session.
import { describeHostileClientGuarantees } from '@faaskeeper/core/testkit';
import { describeGuaranteesOnLocalStack } from './support.js';

describeGuaranteesOnLocalStack('push', [describeHostileClientGuarantees]);
