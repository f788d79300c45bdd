/** The Lambda Node.js runtimes a deployment may run on. */
export const LAMBDA_RUNTIMES = ['nodejs20.x', 'nodejs22.x', 'nodejs24.x'] as const;
/** One of {@link LAMBDA_RUNTIMES}. */
export type LambdaRuntime = (typeof LAMBDA_RUNTIMES)[number];

/**
 * The default runtime. Not `nodejs20.x`: AWS deprecated it on 2026-04-30 and stops creating
 * functions on it on 2027-02-01, and the CDK warns about it at every synthesis. `nodejs22.x` is
 * supported until 2027-04-30; `nodejs24.x` is the one to move to after that.
 */
export const DEFAULT_LAMBDA_RUNTIME: LambdaRuntime = 'nodejs22.x';
