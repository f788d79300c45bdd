/**
 * Configuration reload: an application keeps its settings in a {@link TreeCache} of `/config/app`
 * and applies every change an operator makes, without polling. It runs on a fresh embedded
 * deployment, or with `--config file.json` on the deployment a client configuration file names:
 * the file `faaskeeper dev` (a local AWS or GCP stack) or `faaskeeper deploy` writes.
 * @packageDocumentation
 */
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { FaaSKeeperClient } from '@faaskeeper/client';
import { TreeCache, type TreeCacheEvent } from '@faaskeeper/client/recipes';
import { createEmbeddedService } from '@faaskeeper/core';

/** What a run of the example did. */
export interface ConfigRunResult {
  /** Where it ran: `embedded`, or the provider and deployment name of the config file. */
  deployment: string;
  /** The application's settings after each reload. */
  reloads: Record<string, string>[];
  /** The settings the application ends with. */
  final: Record<string, string>;
}

/** Options of {@link main}. */
export interface ConfigRunOptions {
  /** A client configuration file (`{ "provider": "aws" | "gcp", ...connect options }`); none: embedded. */
  config?: string;
}

/** Where the example's sessions come from. */
interface Sessions {
  label: string;
  connect(): Promise<FaaSKeeperClient>;
  close(): Promise<void>;
}

/**
 * The deployment a client configuration file names, or a fresh embedded one. The provider packages
 * are imported only when a file names them, so the embedded run needs neither cloud SDK loaded.
 */
async function openSessions(configFile: string | undefined): Promise<Sessions> {
  if (configFile === undefined) {
    const service = createEmbeddedService();
    return { label: 'embedded', connect: () => service.connect(), close: () => service.close() };
  }
  const { provider, ...options } = JSON.parse(await readFile(configFile, 'utf8')) as {
    provider?: unknown;
    deployment?: unknown;
  };
  const label = `${String(provider)}:${String(options.deployment)}`;
  if (provider === 'aws') {
    const aws = await import('@faaskeeper/aws');
    const connectOptions = options as Parameters<typeof aws.connect>[0];
    return { label, connect: () => aws.connect(connectOptions), close: async () => undefined };
  }
  if (provider === 'gcp') {
    const gcp = await import('@faaskeeper/gcp');
    const connectOptions = options as Parameters<typeof gcp.connect>[0];
    return { label, connect: () => gcp.connect(connectOptions), close: async () => undefined };
  }
  throw new Error(`${configFile}: "provider" must be "aws" or "gcp" (got ${JSON.stringify(provider)})`);
}

/** Removes `path` and everything below it, if it is there (a run before this one left it). */
async function removeTree(zk: FaaSKeeperClient, path: string): Promise<void> {
  if ((await zk.exists(path)) === null) return;
  for (const child of (await zk.getChildren(path)).children) await removeTree(zk, `${path}/${child}`);
  await zk.delete(path);
}

/** The settings as the cache holds them: one child node per key. */
function settings(cache: TreeCache): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of cache.children('/config/app') ?? [])
    out[key] = cache.getString(`/config/app/${key}`) ?? '';
  return out;
}

/** Runs an operator changing three settings while the application follows them. */
export async function main(options: ConfigRunOptions = {}): Promise<ConfigRunResult> {
  const sessions = await openSessions(options.config);
  const clients: FaaSKeeperClient[] = [];
  try {
    const operator = await sessions.connect();
    clients.push(operator);
    // A deployment that outlives the run (faaskeeper dev, a cloud one) may hold a previous run's settings.
    await removeTree(operator, '/config/app');
    if ((await operator.exists('/config')) === null) await operator.create('/config');
    await operator.create('/config/app');
    await operator.create('/config/app/log-level', 'info');

    const app = await sessions.connect();
    clients.push(app);
    // #region cache
    const cache = new TreeCache(app, '/config/app');
    const reloads: Record<string, string>[] = [];
    await cache.start();
    reloads.push(settings(cache));
    // #endregion cache

    // The application reloads on each 'changed' event of a setting; here we wait for it in turn.
    const nextChange = (path: string) =>
      new Promise<void>((resolve) => {
        // #region changed
        const onChange = (event: TreeCacheEvent) => {
          if (event.path !== path) return;
          cache.off('changed', onChange);
          reloads.push(settings(cache));
          resolve();
        };
        cache.on('changed', onChange);
        // #endregion changed
      });
    let applied = nextChange('/config/app/log-level');
    await operator.setData('/config/app/log-level', 'debug');
    await applied;
    applied = nextChange('/config/app/max-connections');
    await operator.create('/config/app/max-connections', '100');
    await applied;
    applied = nextChange('/config/app/log-level');
    await operator.delete('/config/app/log-level');
    await applied;

    await cache.close();
    return { deployment: sessions.label, reloads, final: reloads.at(-1) ?? {} };
  } finally {
    for (const client of clients) await client.close();
    await sessions.close();
  }
}

/** The options of a command line: `[--config file.json]`. */
export function parseArguments(args: string[]): ConfigRunOptions {
  const { values } = parseArgs({ args, options: { config: { type: 'string' } }, strict: true });
  return values.config === undefined ? {} : { config: values.config };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await main(parseArguments(process.argv.slice(2)));
  console.log(`deployment: ${result.deployment}`);
  for (const r of result.reloads) console.log('config:', JSON.stringify(r));
}
