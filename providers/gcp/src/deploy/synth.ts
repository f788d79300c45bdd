import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { type BundledFunction, bundleGcpFunctions } from './bundle.js';
import { buildGcpConfiguration, GCP_AUTH_VARIABLES, type GcpConfigurationOptions } from './configuration.js';
import type { GcpFunctionName } from './names.js';
import type { TerraformJson } from './terraform.js';

/** Options of {@link synthesizeGcp}. */
export interface SynthesizeGcpOptions extends Omit<GcpConfigurationOptions, 'sources' | 'authVariables'> {
  /**
   * The super digest and gateway key. Only which are set reaches `main.tf.json` (as sensitive
   * variables); deploy hands the values to Terraform as `TF_VAR_...` (see {@link authEnvironment}).
   */
  superDigest?: string;
  gatewayKey?: string;
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
  const { outDir, stateBucket, superDigest, gatewayKey, ...configOptions } = options;
  const authVariables = (['superDigest', 'gatewayKey'] as const).filter(
    (field) => ({ superDigest, gatewayKey })[field] !== undefined,
  );
  const dir = resolve(outDir ?? terraformDirOf(options.deployment));
  await mkdir(dir, { recursive: true });
  const bundles = await bundleGcpFunctions(join(dir, SYNTH_FILES.sources));
  const relativeSource = (fn: GcpFunctionName) => ({
    zipPath: relative(dir, bundles[fn].zipPath).split('\\').join('/'),
    md5: bundles[fn].md5,
  });
  const configuration = buildGcpConfiguration({
    ...configOptions,
    ...(authVariables.length === 0 ? {} : { authVariables }),
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

/**
 * Terraform's environment for the auth values: `TF_VAR_super_digest` and `TF_VAR_gateway_key`
 * for those set. Terraform reads variables from its environment, so the values are in no file
 * deploy writes (they do reach the Terraform state: see docs/providers/gcp.md).
 */
export function authEnvironment(values: {
  superDigest?: string;
  gatewayKey?: string;
}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const field of ['superDigest', 'gatewayKey'] as const) {
    const value = values[field];
    if (value !== undefined) env[`TF_VAR_${GCP_AUTH_VARIABLES[field]}`] = value;
  }
  return env;
}
