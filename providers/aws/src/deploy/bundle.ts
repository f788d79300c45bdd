import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LAMBDA_RUNTIME, type LambdaRuntime } from './runtime.js';

/** The Lambda functions of a deployment. */
export const FUNCTION_NAMES = ['writer', 'distributor', 'heartbeat'] as const;
/** One of {@link FUNCTION_NAMES}. */
export type FunctionName = (typeof FUNCTION_NAMES)[number];

const FACTORY: Record<FunctionName, string> = {
  writer: 'createWriterHandler',
  distributor: 'createDistributorHandler',
  heartbeat: 'createHeartbeatHandler',
};

/** The handlers module: the TypeScript source in the repository, the compiled file when installed. */
function handlersModule(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const source = join(here, '..', 'handlers', 'handlers.ts');
  return existsSync(source) ? source : join(here, '..', 'handlers', 'handlers.js');
}

/** The esbuild target of a Lambda runtime: `nodejs22.x` runs `node22`. */
export function bundleTarget(runtime: LambdaRuntime): string {
  return `node${runtime.slice('nodejs'.length, -'.x'.length)}`;
}

/**
 * Bundles each Lambda function into one self-contained ESM file (`<outDir>/<name>/index.mjs`,
 * handler `index.handler`) with the local esbuild — no Docker, no network, so it runs in CI.
 * The AWS SDK is bundled too: the function then runs the SDK version the tests ran, not the one
 * the Lambda runtime happens to ship.
 *
 * @param runtime the Lambda runtime the bundles run on (their syntax target). Default {@link DEFAULT_LAMBDA_RUNTIME}.
 * @returns the asset directory of each function.
 */
export async function bundleFunctions(
  outDir: string,
  runtime: LambdaRuntime = DEFAULT_LAMBDA_RUNTIME,
): Promise<Record<FunctionName, string>> {
  // Loaded lazily: esbuild is a deploy-time dependency only.
  const esbuild = await import('esbuild');
  const entry = handlersModule();
  const dirs = {} as Record<FunctionName, string>;
  await Promise.all(
    FUNCTION_NAMES.map(async (name) => {
      const dir = join(outDir, name);
      await mkdir(dir, { recursive: true });
      await esbuild.build({
        stdin: {
          // One factory per file, so each bundle carries only its own function.
          contents: `import { ${FACTORY[name]} } from ${JSON.stringify(entry)};\nexport const handler = ${FACTORY[name]}();\n`,
          resolveDir: dirname(entry),
          loader: 'ts',
          sourcefile: `${name}-entry.ts`,
        },
        outfile: join(dir, 'index.mjs'),
        bundle: true,
        platform: 'node',
        target: bundleTarget(runtime),
        format: 'esm',
        // Workspace packages resolve to their TypeScript sources, like the tests do.
        conditions: ['@faaskeeper/source'],
        minify: true,
        sourcemap: false,
        legalComments: 'none',
        logLevel: 'silent',
        // CommonJS dependencies of the SDK call require(); give the ESM bundle one.
        banner: {
          js: "import { createRequire as __fkRequire } from 'node:module';const require = __fkRequire(import.meta.url);",
        },
      });
      dirs[name] = dir;
    }),
  );
  return dirs;
}
