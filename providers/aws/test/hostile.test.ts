// Hostile clients on the local AWS stack (docs/guarantees.md "Security model"): a client with the
// client policy's access (the writer queue, every channel queue, offloaded bodies in S3) but not
// the victim's session secret cannot act as, replay, read or disturb the victim's session.
import { describeHostileClientGuarantees } from '@faaskeeper/core/testkit';
import { describeGuaranteesOnLocalStack } from './support.js';

// Both user stores: their protected zones differ (S3 keys under protected/, DynamoDB protected/ keys).
describeGuaranteesOnLocalStack([describeHostileClientGuarantees], ['dynamodb', 's3']);
