// The core's guarantee suite on the local AWS stack (the errors of API.md, and ACLs): the same tests as on
// the embedded deployment, on DynamoDB Local, S3 and SQS FIFO (fauxqs) with the real Lambda
// handlers. The suite is split over four files (guarantees-*.test.ts), each with its own stack, so
// that vitest can run them in parallel.
import { describeGuaranteesOnLocalStack } from './support.js';

describeGuaranteesOnLocalStack(['errors', 'acls']);
