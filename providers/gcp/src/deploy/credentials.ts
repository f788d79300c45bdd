import { readFile } from 'node:fs/promises';

/** No usable Google Cloud credentials: deploy and destroy stop before Terraform runs. */
export class GcpCredentialsError extends Error {
  override readonly name = 'GcpCredentialsError';
}

/** What to do about missing credentials. */
const CREDENTIALS_HINT =
  'Log in with gcloud auth application-default login (or set GOOGLE_APPLICATION_CREDENTIALS to a key file) and retry.';

/**
 * The variables Terraform's Google provider reads a key (a file path or the JSON itself) from,
 * before Application Default Credentials.
 */
const KEY_VARIABLES = ['GOOGLE_CREDENTIALS', 'GOOGLE_CLOUD_KEYFILE_JSON', 'GCLOUD_KEYFILE_JSON'] as const;

/** Options of {@link checkGcpCredentials}. */
export interface GcpCredentialsCheckOptions {
  /** The environment Terraform will run with. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** How long finding the credentials and getting a token may take. Default 15 s. */
  timeoutMs?: number;
}

/**
 * Checks that Terraform's Google provider will find usable credentials — the fail-fast check
 * before `terraform init`, as `deploy aws` checks AWS's. Looks where the provider looks, in its
 * order: `GOOGLE_OAUTH_ACCESS_TOKEN` (taken as given), a key in `GOOGLE_CREDENTIALS` (and its older
 * names), then Application Default Credentials; a key or ADC must yield an access token.
 * @returns where the credentials come from (and the service account, when they name one).
 * @throws GcpCredentialsError when there are none, they are refused, or no answer comes in time.
 */
export async function checkGcpCredentials(options: GcpCredentialsCheckOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? 15_000;
  if (env.GOOGLE_OAUTH_ACCESS_TOKEN) return 'the access token in GOOGLE_OAUTH_ACCESS_TOKEN';
  const keyVariable = KEY_VARIABLES.find((name) => env[name]);
  let source = 'Application Default Credentials';
  let clientOptions: { credentials?: Record<string, unknown>; keyFilename?: string } = {};
  if (keyVariable !== undefined) {
    const value = (env[keyVariable] as string).trim();
    source = `the key in ${keyVariable}`;
    try {
      clientOptions = value.startsWith('{')
        ? { credentials: JSON.parse(value) as Record<string, unknown> }
        : { credentials: JSON.parse(await readFile(value, 'utf8')) as Record<string, unknown> };
    } catch (error) {
      throw new GcpCredentialsError(
        `${keyVariable} holds no readable key: ${(error as Error).message}. ${CREDENTIALS_HINT}`,
      );
    }
  }
  // The Datastore client's auth is google-auth-library's, which finds credentials as Terraform does.
  const { Datastore } = await import('@google-cloud/datastore');
  const auth = new Datastore(clientOptions).auth;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new GcpCredentialsError(
            `Google did not answer within ${timeoutMs} ms with ${source} (check your network and credentials)`,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    const token = await Promise.race([auth.getAccessToken(), timeout]);
    if (!token) throw new Error('no access token');
    const email = await Promise.race([auth.getCredentials(), timeout]).then(
      (body) => body.client_email,
      // Only for the message: user credentials name no account, and that is fine.
      () => undefined,
    );
    return email === undefined ? source : `${source} (${email})`;
  } catch (error) {
    if (error instanceof GcpCredentialsError) throw error;
    throw new GcpCredentialsError(
      `no usable Google Cloud credentials (${source}): ${(error as Error).message.replace(/\.+$/, '')}. ${CREDENTIALS_HINT}`,
    );
  } finally {
    clearTimeout(timer);
  }
}
