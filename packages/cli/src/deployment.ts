import { readFile } from 'node:fs/promises';
import type { ClientOptions, FaaSKeeperClient } from '@faaskeeper/client';
import { createEmbeddedService, type EmbeddedServiceOptions } from '@faaskeeper/core';
import { quietAwsSdk } from './command-options.js';
import { importOptional, MissingPackageError } from './optional-import.js';

/** A connected session of some deployment, and how to let go of it. */
export interface Deployment {
  /** Shown in the shell's prompt: `embedded`, or the provider and deployment name. */
  readonly label: string;
  readonly client: FaaSKeeperClient;
  /** Closes the session (and, for the embedded deployment, stops it). */
  close(): Promise<void>;
}

/**
 * Where the sessions of a deployment come from: `shell` opens one, `gateway` one per ZooKeeper
 * session.
 */
export interface SessionSource {
  /** `embedded`, or the provider and deployment name. */
  readonly label: string;
  /** Opens a session (a CONNECTED client). */
  connect(options?: ClientOptions): Promise<FaaSKeeperClient>;
  /** Lets go of the deployment (the embedded one stops); sessions are the caller's to close. */
  close(): Promise<void>;
}

/** A deployment config the CLI cannot use: a usage error (exit code 2). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * The providers a config file may name: `embedded` is served by this package, `aws` and `gcp` by
 * the provider packages (optional peer dependencies, loaded when a config names them).
 */
export const PROVIDERS = ['embedded', 'aws', 'gcp'] as const;

/**
 * A deployment config file (JSON): `{ "provider": "embedded" }`, or `{ "provider": "aws", ... }`
 * with provider options that the provider packages define.
 */
export interface DeploymentConfig {
  provider: (typeof PROVIDERS)[number];
  [option: string]: unknown;
}

/**
 * Reads and checks a deployment config file.
 * @throws ConfigError when the file cannot be read, is not JSON, or names no known provider.
 */
export async function readConfig(file: string): Promise<DeploymentConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `cannot read config file ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  const provider = (config as { provider?: unknown } | null)?.provider;
  if (typeof provider !== 'string' || !(PROVIDERS as readonly string[]).includes(provider))
    throw new ConfigError(
      `config file ${file} must name a "provider": one of ${PROVIDERS.join(', ')} (got ${JSON.stringify(provider)})`,
    );
  return config as DeploymentConfig;
}

/**
 * Connects to the deployment a config names, or to a fresh embedded (in-memory, in-process)
 * deployment when there is none: one session.
 * @throws ConfigError for a bad config, or a provider that is not installed yet.
 */
export async function openDeployment(config?: DeploymentConfig): Promise<Deployment> {
  const source = await openSessionSource(config);
  let client: FaaSKeeperClient;
  try {
    client = await source.connect();
  } catch (error) {
    await source.close();
    throw error;
  }
  return {
    label: source.label,
    client,
    async close() {
      await client.close();
      await source.close();
    },
  };
}

/** Whether a config (or none) means a fresh embedded deployment in this process. */
export function isEmbedded(config: DeploymentConfig | undefined): boolean {
  return (config?.provider ?? 'embedded') === 'embedded';
}

/**
 * The deployment a config names (or a fresh embedded one), as a source of sessions. `embedded`
 * configures a fresh embedded deployment (its super digest, its gateway key); a deployed one has
 * its own, set when it was deployed.
 * @throws ConfigError for a bad config, or a provider that is not installed yet.
 */
export async function openSessionSource(
  config?: DeploymentConfig,
  embedded: Pick<EmbeddedServiceOptions, 'superDigest' | 'gatewayKey'> = {},
): Promise<SessionSource> {
  const provider = config?.provider ?? 'embedded';
  if (provider === 'aws' && config !== undefined) {
    // A file `faaskeeper deploy aws` or `faaskeeper dev` wrote: connect() options plus the provider.
    quietAwsSdk();
    const { connect } = await importOptional(
      () => import('@faaskeeper/aws'),
      'an aws deployment config',
      '@faaskeeper/aws',
    ).catch((error: unknown) => {
      throw error instanceof MissingPackageError ? new ConfigError(error.message) : error;
    });
    const { provider: _provider, ...options } = config as DeploymentConfig & Parameters<typeof connect>[0];
    if (typeof options.deployment !== 'string' || typeof options.region !== 'string')
      throw new ConfigError(
        'an aws config needs "deployment" and "region" (faaskeeper deploy aws writes one)',
      );
    return {
      label: `aws:${options.deployment}`,
      connect: (more) => connect({ ...options, ...more }),
      close: async () => undefined,
    };
  }
  if (provider === 'gcp' && config !== undefined) {
    // A file `faaskeeper deploy gcp` or `faaskeeper dev gcp` wrote: connect() options
    // plus the provider.
    const { connect } = await importOptional(
      () => import('@faaskeeper/gcp'),
      'a gcp deployment config',
      '@faaskeeper/gcp',
    ).catch((error: unknown) => {
      throw error instanceof MissingPackageError ? new ConfigError(error.message) : error;
    });
    const { provider: _provider, ...options } = config as DeploymentConfig & Parameters<typeof connect>[0];
    const isObject = (value: unknown) => typeof value === 'object' && value !== null;
    if (typeof options.deployment !== 'string' || !isObject(options.datastore) || !isObject(options.pubsub))
      throw new ConfigError(
        'a gcp config needs "deployment", "datastore" and "pubsub" (faaskeeper deploy gcp writes one)',
      );
    // On the local emulators (`faaskeeper dev gcp`) there are no credentials to find: the
    // Google auth library would otherwise probe the cloud metadata server and warn (as the local stack does).
    const endpoints = [options.datastore, options.pubsub].map(
      (c) => (c as { apiEndpoint?: unknown }).apiEndpoint,
    );
    if (endpoints.every((e) => typeof e === 'string' && /^(127\.0\.0\.1|localhost|\[::1\])(:|$)/.test(e)))
      process.env.METADATA_SERVER_DETECTION ??= 'none';
    return {
      label: `gcp:${options.deployment}`,
      connect: (more) => connect({ ...options, ...more }),
      close: async () => undefined,
    };
  }
  if (provider !== 'embedded') throw new ConfigError(`unknown provider ${provider}`);
  const service = createEmbeddedService(embedded);
  return {
    label: 'embedded',
    connect: (options) => service.connect(options),
    close: () => service.close(),
  };
}
