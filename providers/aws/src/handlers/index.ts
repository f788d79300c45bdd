/**
 * @faaskeeper/aws/handlers — the Lambda functions of a FaaSKeeper deployment on AWS, configured
 * from environment variables (see `configToEnv`). Each is bundled into its own file for Lambda.
 * @packageDocumentation
 */
import { createDistributorHandler, createHeartbeatHandler, createWriterHandler } from './handlers.js';

export {
  createDistributorHandler,
  createHeartbeatHandler,
  createWriterHandler,
  type HandlerOptions,
} from './handlers.js';
export type * from './lambda-types.js';
export { type LambdaLogger, powertoolsLogger } from './logger.js';
export { messagesToEvent, recordsToMessages } from './sqs-event.js';

/** The writer function's entry point (`handlers.writer`). */
export const writer = createWriterHandler();
/** The distributor function's entry point (`handlers.distributor`). */
export const distributor = createDistributorHandler();
/** The heartbeat function's entry point (`handlers.heartbeat`). */
export const heartbeat = createHeartbeatHandler();
