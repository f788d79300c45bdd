import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { authFieldsOf, type DeploymentAuthValues } from './auth-secret.js';
import { bundleFunctions } from './bundle.js';
import { FaaSKeeperStack, type FaaSKeeperStackProps } from './stack.js';

/** Options of {@link synthesizeAws}. */
export interface SynthesizeOptions
  extends Omit<FaaSKeeperStackProps, 'functionCode' | 'env' | 'deployment' | 'authSecret'>,
    DeploymentAuthValues {
  deployment: string;
  /**
   * The auth secret's version that `deploy` stored the super digest and gateway key as; omitted,
   * the template refers to the secret's current version. Either way only which values are set
   * reaches the template, never the values.
   */
  authSecretVersionId?: string;
  /** Where the cloud assembly goes. Default `.faaskeeper/cdk.out/<deployment>`. */
  outDir?: string;
  /** Target account and region; omitted, the template is environment-agnostic. */
  account?: string;
  region?: string;
}

/** A synthesized deployment. */
export interface Synthesized {
  /** The deployment's name. */
  deployment: string;
  /** The cloud assembly directory (what the CDK toolkit deploys). */
  assemblyDir: string;
  /** The CloudFormation stack name. */
  stackName: string;
  /** The CloudFormation template file. */
  templatePath: string;
  /** The template itself. */
  template: Record<string, unknown>;
}

/** The CloudFormation stack name of a deployment. */
export function stackNameOf(deployment: string): string {
  return `FaaSKeeper-${deployment}`;
}

/**
 * Bundles the functions and synthesizes the deployment's CloudFormation template into a cloud
 * assembly — offline, no credentials needed (`faaskeeper synth aws`, and the first half of deploy).
 */
export async function synthesizeAws(options: SynthesizeOptions): Promise<Synthesized> {
  const { outDir, account, region, deployment, superDigest, gatewayKey, authSecretVersionId, ...stackProps } =
    options;
  const fields = authFieldsOf({
    ...(superDigest === undefined ? {} : { superDigest }),
    ...(gatewayKey === undefined ? {} : { gatewayKey }),
  });
  const assemblyDir = resolve(outDir ?? join('.faaskeeper', 'cdk.out', deployment));
  await mkdir(assemblyDir, { recursive: true });
  const functionCode = await bundleFunctions(join(assemblyDir, 'bundles'), stackProps.runtime);
  const app = new App({ outdir: assemblyDir, analyticsReporting: false });
  const stackName = stackNameOf(deployment);
  const env = {
    ...(account === undefined ? {} : { account }),
    ...(region === undefined ? {} : { region }),
  };
  new FaaSKeeperStack(app, stackName, {
    ...stackProps,
    stackName,
    deployment,
    functionCode,
    ...(fields.length === 0
      ? {}
      : {
          authSecret: {
            fields,
            ...(authSecretVersionId === undefined ? {} : { versionId: authSecretVersionId }),
          },
        }),
    ...(Object.keys(env).length === 0 ? {} : { env }),
    description: `FaaSKeeper deployment ${deployment} (serverless ZooKeeper)`,
  });
  const assembly = app.synth();
  const artifact = assembly.getStackByName(stackName);
  const templatePath = join(assembly.directory, artifact.templateFile);
  const template = JSON.parse(await readFile(templatePath, 'utf8')) as Record<string, unknown>;
  return { deployment, assemblyDir: assembly.directory, stackName, templatePath, template };
}
