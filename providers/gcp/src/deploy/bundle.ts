import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GCP_FUNCTION_NAMES, type GcpFunctionName } from './names.js';
import { zip } from './zip.js';

/**
 * Packages that stay outside the bundle, as dependencies the Cloud Functions build installs: the
 * functions framework (the runtime's launcher must find the functions registered in the copy it
 * serves from) and the Google Cloud clients (they read their `.proto` files from their own package
 * directory at load time). Everything else — the core, the adapters — is in the bundle.
 */
export const EXTERNAL_PACKAGES = [
  '@google-cloud/datastore',
  '@google-cloud/functions-framework',
  '@google-cloud/pubsub',
  '@google-cloud/storage',
] as const;

/** A bundled function. */
export interface BundledFunction {
  /** The zip file (Cloud Functions source: `index.mjs` and `package.json`). */
  zipPath: string;
  /** Hex MD5 of the zip. */
  md5: string;
  /** Size of `index.mjs`. */
  bytes: number;
  /** The functions-framework entry point (`writer`, `distributor`, `heartbeat`). */
  entryPoint: GcpFunctionName;
}

/** A module of this package: its TypeScript source in the repository, the compiled file when installed. */
function ownModule(relative: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const source = join(here, `${relative}.ts`);
  return existsSync(source) ? source : join(here, `${relative}.js`);
}

/** The root directory of an installed package (whose `package.json` may not be exported). */
export function installedPackageRoot(name: string): string {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve(name));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === name)
      return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the package.json of ${name}`);
    dir = up;
  }
}

/** The installed version of a package: the function installs the version the tests ran. */
export function installedVersion(name: string): string {
  const pkg = JSON.parse(readFileSync(join(installedPackageRoot(name), 'package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** The `package.json` of a function's source: ESM, its entry file, the external packages. */
export function functionPackageJson(name: GcpFunctionName): string {
  const pkg = {
    name: `faaskeeper-${name}`,
    private: true,
    type: 'module',
    main: 'index.mjs',
    engines: { node: '>=20' },
    dependencies: Object.fromEntries(EXTERNAL_PACKAGES.map((name) => [name, installedVersion(name)])),
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

/**
 * Bundles each function into one self-contained ESM file with the local esbuild (no Docker, no
 * network) and zips it with its `package.json` into `<outDir>/<name>.zip`. The entry registers the
 * deployment's functions with the functions framework from the environment the Terraform
 * configuration sets (`deployedFunctionConfig`); Cloud Functions runs the one named by its entry point.
 */
export async function bundleGcpFunctions(outDir: string): Promise<Record<GcpFunctionName, BundledFunction>> {
  // Loaded lazily: esbuild is a deploy-time dependency only.
  const esbuild = await import('esbuild');
  const functionsModule = ownModule(join('..', 'functions', 'gcp-functions'));
  const runtimeModule = ownModule('runtime');
  await mkdir(outDir, { recursive: true });
  const out = {} as Record<GcpFunctionName, BundledFunction>;
  await Promise.all(
    GCP_FUNCTION_NAMES.map(async (name) => {
      const result = await esbuild.build({
        stdin: {
          contents: [
            `import { registerGcpFunctions } from ${JSON.stringify(functionsModule)};`,
            `import { deployedFunctionConfig } from ${JSON.stringify(runtimeModule)};`,
            'registerGcpFunctions(deployedFunctionConfig(process.env));',
            '',
          ].join('\n'),
          resolveDir: dirname(runtimeModule),
          loader: 'ts',
          sourcefile: `${name}-entry.ts`,
        },
        write: false,
        outfile: 'index.mjs',
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'esm',
        external: [...EXTERNAL_PACKAGES],
        // Workspace packages resolve to their TypeScript sources, like the tests do.
        conditions: ['@faaskeeper/source'],
        minify: true,
        sourcemap: false,
        legalComments: 'none',
        logLevel: 'silent',
        // CommonJS dependencies of the Google SDKs call require(); give the ESM bundle one.
        banner: {
          js: "import { createRequire as __fkRequire } from 'node:module';const require = __fkRequire(import.meta.url);",
        },
      });
      const code = result.outputFiles[0]?.contents;
      if (code === undefined) throw new Error(`esbuild produced no bundle for ${name}`);
      const archive = zip([
        { name: 'index.mjs', data: code },
        { name: 'package.json', data: Buffer.from(functionPackageJson(name), 'utf8') },
      ]);
      const zipPath = join(outDir, `${name}.zip`);
      await writeFile(zipPath, archive);
      out[name] = {
        zipPath,
        md5: createHash('md5').update(archive).digest('hex'),
        bytes: code.byteLength,
        entryPoint: name,
      };
    }),
  );
  return out;
}
