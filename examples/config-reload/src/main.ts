/**
 * Configuration reload: an application keeps its settings in a {@link TreeCache} of `/config/app`
 * and applies every change an operator makes, without polling.
 * @packageDocumentation
 */
import { pathToFileURL } from 'node:url';
import { TreeCache, type TreeCacheEvent } from '@faaskeeper/client/recipes';
import { createEmbeddedService } from '@faaskeeper/core';

/** What a run of the example did. */
export interface ConfigRunResult {
  /** The application's settings after each reload. */
  reloads: Record<string, string>[];
  /** The settings the application ends with. */
  final: Record<string, string>;
}

/** The settings as the cache holds them: one child node per key. */
function settings(cache: TreeCache): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of cache.children('/config/app') ?? [])
    out[key] = cache.getString(`/config/app/${key}`) ?? '';
  return out;
}

/** Runs an operator changing three settings while the application follows them. */
export async function main(): Promise<ConfigRunResult> {
  const service = createEmbeddedService();
  try {
    const operator = await service.connect();
    await operator.create('/config');
    await operator.create('/config/app');
    await operator.create('/config/app/log-level', 'info');

    const app = await service.connect();
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
    return { reloads, final: reloads.at(-1) ?? {} };
  } finally {
    await service.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await main();
  for (const r of result.reloads) console.log('config:', JSON.stringify(r));
}
