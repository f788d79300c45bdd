/**
 * The deployment's secrets as the writer and distributor functions get them: environment variables
 * (a Lambda's or a Cloud Function's), set by the stack from a generated secret, never part of the
 * configuration clients read.
 */
import type { FunctionsOptions } from './create-functions.js';

/** The environment variable of each secret. */
export const SECRET_ENV = {
  channelSecret: 'FAASKEEPER_CHANNEL_SECRET',
  superDigest: 'FAASKEEPER_SUPER_DIGEST',
  gatewayKey: 'FAASKEEPER_GATEWAY_KEY',
} as const;

/** The secrets of {@link FunctionsOptions}. */
export type FunctionSecrets = Pick<FunctionsOptions, keyof typeof SECRET_ENV>;

/** The secrets set in `env` (an unset or empty variable: that secret is absent). */
export function secretsFromEnv(env: Record<string, string | undefined>): FunctionSecrets {
  const out: FunctionSecrets = {};
  for (const [field, name] of Object.entries(SECRET_ENV) as [keyof FunctionSecrets, string][]) {
    const value = env[name];
    if (value !== undefined && value !== '') out[field] = value;
  }
  return out;
}
