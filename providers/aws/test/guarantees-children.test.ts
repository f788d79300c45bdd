// The core's children guarantees on the local AWS stack (getChildren over the child index: the child
// set of one zxid under concurrent creates and deletes, re-created names, 100,000 children in full),
// on DynamoDB Local, S3 and SQS FIFO (fauxqs) with the real Lambda handlers, in a file (and stack)
// of its own because filling 100,000 children takes minutes.
import { describeGuaranteesOnLocalStack } from './support.js';

describeGuaranteesOnLocalStack(['children']);
