import { buildGcpConfiguration, type GcpConfigurationOptions } from '../src/deploy/index.js';

/** Options of a configuration built without bundling (fake sources): what the structure tests need. */
export function configOptions(overrides: Partial<GcpConfigurationOptions> = {}): GcpConfigurationOptions {
  const source = (md5: string) => ({ zipPath: `sources/${md5}.zip`, md5 });
  return {
    deployment: 'prod',
    project: 'acme-zk',
    region: 'europe-west1',
    sources: { writer: source('a1'), distributor: source('b2'), heartbeat: source('c3') },
    ...overrides,
  };
}

/** A configuration built without bundling. */
export function configuration(overrides: Partial<GcpConfigurationOptions> = {}) {
  return buildGcpConfiguration(configOptions(overrides));
}

/** A resource body, failing the test when it is missing. */
export function resourceOf(config: ReturnType<typeof configuration>, type: string, name: string) {
  const body = config.resource[type]?.[name];
  if (body === undefined) throw new Error(`no resource ${type}.${name}`);
  // biome-ignore lint/suspicious/noExplicitAny: tests read nested Terraform blocks freely
  return body as any;
}
