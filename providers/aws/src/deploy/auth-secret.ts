/**
 * The deployment's auth secret: the super digest and the gateway key, kept in one Secrets Manager
 * secret that `deploy` writes through the SDK before the CDK deploy. The stack refers to it with
 * CloudFormation dynamic references, so neither value is ever in the synthesized template, the
 * cloud assembly or the stack's stored template; CloudFormation resolves them into the writer's
 * and distributor's environment at deploy time.
 */

/** The auth values a deployment may hold (the writer's `superDigest` and `gatewayKey`). */
export type AuthField = 'superDigest' | 'gatewayKey';

/** The auth values in the order the secret's JSON holds them. */
export const AUTH_FIELDS: readonly AuthField[] = ['superDigest', 'gatewayKey'];

/** The values themselves: what `deploy` stores; never handed to the stack. */
export type DeploymentAuthValues = Partial<Record<AuthField, string>>;

/**
 * What the stack knows of the auth secret: which JSON fields it holds and, after `deploy` stored
 * them, the version to resolve. The version is in the template so that a changed key changes the
 * template: CloudFormation does not notice a new value behind an unchanged reference.
 */
export interface AuthSecretReference {
  fields: readonly AuthField[];
  /** The Secrets Manager version id; omitted (synth), the reference resolves the current version. */
  versionId?: string;
}

/** The auth secret's name: `faaskeeper-<deployment>-auth`. */
export function authSecretName(deployment: string): string {
  return `faaskeeper-${deployment}-auth`;
}

/** The fields `values` sets, in {@link AUTH_FIELDS} order. */
export function authFieldsOf(values: DeploymentAuthValues): AuthField[] {
  return AUTH_FIELDS.filter((field) => values[field] !== undefined);
}

/** The secret's text: a JSON object of the set fields, in a fixed order (so equal values compare equal). */
export function authSecretString(values: DeploymentAuthValues): string {
  return JSON.stringify(Object.fromEntries(authFieldsOf(values).map((field) => [field, values[field]])));
}

/** The Secrets Manager operations the auth secret needs (the SDK's in {@link secretsManagerStore}). */
export interface AuthSecretStore {
  /** The current value and its version, or undefined when there is no such secret. */
  read(name: string): Promise<{ value: string; versionId: string } | undefined>;
  /** Creates the secret; resolves its first version id. */
  create(name: string, value: string, description: string): Promise<string>;
  /** Stores a new current value; resolves its version id. */
  put(name: string, value: string): Promise<string>;
  /** Deletes the secret at once (no recovery window); a missing secret is no error. */
  remove(name: string): Promise<void>;
}

/**
 * Makes the deployment's auth secret hold `values` and returns the reference the stack takes, or
 * undefined when there are no values (then the stack refers to no secret; remove a previous one
 * with {@link removeAuthSecret} once the stack no longer refers to it). An unchanged value keeps
 * its version, so a deploy with the same key leaves the functions alone.
 */
export async function storeAuthSecret(
  store: AuthSecretStore,
  deployment: string,
  values: DeploymentAuthValues,
): Promise<AuthSecretReference | undefined> {
  const fields = authFieldsOf(values);
  if (fields.length === 0) return undefined;
  const name = authSecretName(deployment);
  const value = authSecretString(values);
  const current = await store.read(name);
  let versionId: string;
  if (current === undefined)
    versionId = await store.create(
      name,
      value,
      `FaaSKeeper ${deployment}: the super digest and gateway key of the writer and distributor`,
    );
  else if (current.value === value) versionId = current.versionId;
  else versionId = await store.put(name, value);
  return { fields, versionId };
}

/** Deletes the deployment's auth secret (after a destroy, or a deploy without auth values). */
export async function removeAuthSecret(store: AuthSecretStore, deployment: string): Promise<void> {
  await store.remove(authSecretName(deployment));
}

/** What {@link secretsManagerStore} needs to reach Secrets Manager: a region and an optional profile. */
export interface SecretsManagerTarget {
  region: string;
  profile?: string;
  /** Another endpoint than AWS's (an emulator; the tests' on 127.0.0.1). */
  endpoint?: string;
}

/**
 * An {@link AuthSecretStore} on Secrets Manager (the SDK loaded on demand: only deploy and
 * destroy need it). A secret scheduled for deletion (a destroy less than the recovery window ago,
 * done by hand) is restored before it is read, since its name cannot be taken again until then.
 */
export async function secretsManagerStore(
  target: SecretsManagerTarget,
): Promise<AuthSecretStore & { close(): void }> {
  const sdk = await import('@aws-sdk/client-secrets-manager');
  const client = new sdk.SecretsManagerClient({
    region: target.region,
    ...(target.profile === undefined ? {} : { profile: target.profile }),
    ...(target.endpoint === undefined ? {} : { endpoint: target.endpoint }),
  });
  const versionOf = (out: { VersionId?: string | undefined }, name: string) => {
    if (out.VersionId === undefined) throw new Error(`Secrets Manager returned no version of ${name}`);
    return out.VersionId;
  };
  const read = async (
    name: string,
    restored = false,
  ): Promise<{ value: string; versionId: string } | undefined> => {
    try {
      const out = await client.send(new sdk.GetSecretValueCommand({ SecretId: name }));
      if (out.SecretString === undefined) throw new Error(`secret ${name} holds no text`);
      return { value: out.SecretString, versionId: versionOf(out, name) };
    } catch (error) {
      if (error instanceof sdk.ResourceNotFoundException) return undefined;
      if (!restored && error instanceof sdk.InvalidRequestException && /deletion/i.test(error.message)) {
        await client.send(new sdk.RestoreSecretCommand({ SecretId: name }));
        return read(name, true);
      }
      throw error;
    }
  };
  return {
    read: (name) => read(name),
    create: async (name, value, description) =>
      versionOf(
        await client.send(
          new sdk.CreateSecretCommand({
            Name: name,
            SecretString: value,
            Description: description,
            Tags: [{ Key: 'faaskeeper', Value: 'auth' }],
          }),
        ),
        name,
      ),
    put: async (name, value) =>
      versionOf(
        await client.send(new sdk.PutSecretValueCommand({ SecretId: name, SecretString: value })),
        name,
      ),
    remove: async (name) => {
      try {
        await client.send(new sdk.DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
      } catch (error) {
        // Nothing to delete: the deployment never had auth values.
        if (!(error instanceof sdk.ResourceNotFoundException)) throw error;
      }
    },
    close: () => client.destroy(),
  };
}
