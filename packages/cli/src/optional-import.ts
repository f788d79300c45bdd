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
