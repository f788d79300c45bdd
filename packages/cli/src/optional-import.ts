/**
 * Loads a package the CLI only needs for some commands (the AWS provider, the CDK). They are
 * optional peer dependencies: the shell and the demo run without them, and a command that needs
 * one says what to install instead of failing with a resolver error.
 */
export class MissingPackageError extends Error {
  override name = 'MissingPackageError';
}

export async function importOptional<T>(load: () => Promise<T>, what: string, install: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new MissingPackageError(`${what} needs packages that are not installed: npm install ${install}`);
    }
    throw error;
  }
}

/**
 * {@link importOptional} for a command: a missing package is reported on `errorOutput` (with what to
 * install) and resolves `undefined`, which the command turns into exit code 1.
 */
export async function importForCommand<T>(
  load: () => Promise<T>,
  what: string,
  install: string,
  errorOutput: { write(text: string): unknown },
): Promise<T | undefined> {
  try {
    return await importOptional(load, what, install);
  } catch (error) {
    if (!(error instanceof MissingPackageError)) throw error;
    errorOutput.write(`Error: ${error.message}\n`);
    return undefined;
  }
}
