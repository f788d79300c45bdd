import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { Logger } from '@faaskeeper/core';
import type { LambdaContext } from './lambda-types.js';

/** A {@link Logger} that can also stamp its lines with the Lambda invocation. */
export interface LambdaLogger extends Logger {
  /** Adds the invocation's request id, function name, version and memory to every later line. */
  addContext(context: LambdaContext): void;
}

/**
 * The core's {@link Logger} port on Powertools for AWS Lambda's logger: structured JSON on stdout
 * with the service name, cold start and (after `addContext`) the request id, at the level set by
 * `POWERTOOLS_LOG_LEVEL` or Lambda's own log-level control (default INFO), so that CloudWatch and
 * Logs Insights see the same fields every Powertools function logs.
 * @param logger a configured Powertools logger; default one for service `faaskeeper`.
 */
export function powertoolsLogger(
  logger: PowertoolsLogger = new PowertoolsLogger({ serviceName: 'faaskeeper' }),
): LambdaLogger {
  return {
    debug: (message, fields) => logger.debug(message, fields ?? {}),
    info: (message, fields) => logger.info(message, fields ?? {}),
    warn: (message, fields) => logger.warn(message, fields ?? {}),
    error: (message, fields) => logger.error(message, fields ?? {}),
    addContext: (context) => {
      // Only a real Lambda context has a request id (the local runtime passes a partial one).
      if (context.awsRequestId === undefined) return;
      logger.addContext({
        awsRequestId: context.awsRequestId,
        functionName: context.functionName ?? '',
        functionVersion: context.functionVersion ?? '',
        invokedFunctionArn: context.invokedFunctionArn ?? '',
        memoryLimitInMB: context.memoryLimitInMB ?? '',
      } as Parameters<PowertoolsLogger['addContext']>[0]);
    },
  };
}
