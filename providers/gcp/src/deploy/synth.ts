import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { type BundledFunction, bundleGcpFunctions } from './bundle.js';
import { buildGcpConfiguration, type GcpConfigurationOptions } from './configuration.js';
import type { GcpFunctionName } from './names.js';
import type { TerraformJson } from './terraform.js';

/** Options of {@link synthesizeGcp}. */
export interface SynthesizeGcpOptions extends Omit<GcpConfigurationOptions, 'sources'> {
  /** Where the configuration goes. Default `.faaskeeper/terraform/<deployment>` (it also keeps the state). */
  outDir?: string;
  /**
   * A Cloud Storage bucket (existing) for the Terraform state, instead of the local
   * `terraform.tfstate` in the out directory: what a team shares.
   */
  stateBucket?: string;
}

/** A synthesized deployment. */
export interface SynthesizedGcp {
  /** The Terraform working directory. */
  dir: string;
  /** `main.tf.json` in it. */
  configPath: string;
  configuration: TerraformJson;
  /** Each function's zipped source. */
  bundles: Record<GcpFunctionName, BundledFunction>;
}

/** The default Terraform directory of a deployment. */
export function terraformDirOf(deployment: string): string {
  return join('.faaskeeper', 'terraform', deployment);
}

/** File names inside the Terraform directory. */
export const SYNTH_FILES = {
  configuration: 'main.tf.json',
  backend: 'backend.tf.json',
  imports: 'imports.tf.json',
  sources: 'sources',
} as const;

/**
 * Bundles and zips the functions and writes the deployment's Terraform configuration
 * (`main.tf.json`), offline and without credentials: `faaskeeper synth gcp`, and the first half of
 * deploy. Files Terraform keeps in the directory (`.terraform/`, `terraform.tfstate`) are left alone.
 */
export async function synthesizeGcp(options: SynthesizeGcpOptions): Promise<SynthesizedGcp> {
  const { outDir, stateBucket, ...configOptions } = options;
  const dir = resolve(outDir ?? terraformDirOf(options.deployment));
  await mkdir(dir, { recursive: true });
  const bundles = await bundleGcpFunctions(join(dir, SYNTH_FILES.sources));
  const relativeSource = (fn: GcpFunctionName) => ({
    zipPath: relative(dir, bundles[fn].zipPath).split('\\').join('/'),
    md5: bundles[fn].md5,
  });
  const configuration = buildGcpConfiguration({
    ...configOptions,
    sources: {
      writer: relativeSource('writer'),
      distributor: relativeSource('distributor'),
      heartbeat: relativeSource('heartbeat'),
    },
  });
  const configPath = join(dir, SYNTH_FILES.configuration);
  await writeFile(configPath, `${JSON.stringify(configuration, null, 2)}\n`);
  const backendPath = join(dir, SYNTH_FILES.backend);
  if (stateBucket !== undefined) {
    const backend = {
      terraform: { backend: { gcs: { bucket: stateBucket, prefix: `faaskeeper/${options.deployment}` } } },
    };
    await writeFile(backendPath, `${JSON.stringify(backend, null, 2)}\n`);
  }
  return { dir, configPath, configuration, bundles };
}
