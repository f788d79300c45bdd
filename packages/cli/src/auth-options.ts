import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option } from 'commander';
import { UsageError } from './shell/commands.js';

/** The environment variable the gateway key is taken from when no `--gateway-key-file` names one. */
export const GATEWAY_KEY_ENV = 'FAASKEEPER_GATEWAY_KEY';

/** The fewest characters a gateway key may have: it keys an HMAC, and a short key is guessable. */
export const MIN_GATEWAY_KEY_LENGTH = 16;

/**
 * Checks a super digest as ZooKeeper's `zookeeper.DigestAuthenticationProvider.superDigest` holds
 * it: `super:` and the base64 of a 20-byte SHA-1 (`faaskeeper digest super:<password>` makes one).
 * @returns why it is refused, or undefined when it is well formed.
 */
export function superDigestProblem(digest: string): string | undefined {
  const rule = 'it must be super:<base64 of a SHA-1>, as faaskeeper digest super:<password> prints it';
  if (!digest.startsWith('super:')) return `'${digest}' does not start with super: (${rule})`;
  const encoded = digest.slice('super:'.length);
  const bytes = Buffer.from(encoded, 'base64');
  // Node's decoder skips what is not base64: re-encoding shows whether the text was exactly that.
  if (bytes.byteLength !== 20 || bytes.toString('base64') !== encoded)
    return `'${encoded}' is not the base64 of a 20-byte SHA-1 (${rule})`;
  return undefined;
}

/**
 * `--super-digest <digest>`: the deployment's super user, checked as it is parsed, so that a
 * malformed digest is a usage error (exit code 2) before anything runs. It is a command-line
 * value, as in ZooKeeper's `-D` flag: a SHA-1 of the password, not the password. The deployments
 * still keep it as they keep the gateway key (it can be attacked offline by guessing), and the
 * CLI does not print it back.
 */
export function superDigestOption(what: string): Option {
  return new Option(
    '--super-digest <digest>',
    `the super user, super:<base64 sha1> from faaskeeper digest super:<password>; ${what}`,
  ).argParser((digest: string) => {
    const problem = superDigestProblem(digest);
    if (problem !== undefined) throw new InvalidArgumentError(problem);
    return digest;
  });
}

/**
 * `--gateway-key-file <path>`: where the gateway key is read from. The key itself is never an
 * option value: a command line shows in `ps` to every user of the machine.
 */
export function gatewayKeyFileOption(what: string): Option {
  return new Option(
    '--gateway-key-file <path>',
    `a file holding the gateway key (default: the ${GATEWAY_KEY_ENV} environment variable); ${what}`,
  );
}

/**
 * The gateway key: the contents of `file` (without the line end an editor adds), else
 * {@link GATEWAY_KEY_ENV}, else undefined (no key).
 * @throws UsageError when the file cannot be read, or the key is shorter than
 * {@link MIN_GATEWAY_KEY_LENGTH} characters.
 */
export function readGatewayKey(
  file: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  let key: string | undefined;
  let source: string;
  if (file !== undefined) {
    source = `--gateway-key-file ${file}`;
    try {
      key = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw new UsageError(`${source}: cannot read it (${(error as NodeJS.ErrnoException).code ?? error})`);
    }
  } else {
    source = GATEWAY_KEY_ENV;
    key = env[GATEWAY_KEY_ENV];
    // An empty variable is an unset one, as the functions read their own (secretsFromEnv).
    if (key === undefined || key === '') return undefined;
  }
  if (key.length < MIN_GATEWAY_KEY_LENGTH)
    throw new UsageError(
      `${source}: the gateway key has ${key.length} characters, fewer than ${MIN_GATEWAY_KEY_LENGTH} ` +
        '(make one with: openssl rand -base64 32)',
    );
  return key;
}

/** The options `--super-digest` and the gateway key give a deployment, for the provider's calls. */
export interface DeploymentAuth {
  superDigest?: string;
  gatewayKey?: string;
}

/** {@link DeploymentAuth} from the parsed flags (the key read from its file or the environment). */
export function deploymentAuth(
  flags: { superDigest?: string; gatewayKeyFile?: string },
  env: NodeJS.ProcessEnv = process.env,
): DeploymentAuth {
  const gatewayKey = readGatewayKey(flags.gatewayKeyFile, env);
  return {
    ...(flags.superDigest === undefined ? {} : { superDigest: flags.superDigest }),
    ...(gatewayKey === undefined ? {} : { gatewayKey }),
  };
}

/**
 * The auth options of a command line to repeat (` --super-digest <digest> --gateway-key-file f`),
 * or ''. The digest is left a placeholder: printed output ends up in logs, and the digest can be
 * attacked offline, so the CLI prints neither it nor the key.
 */
export function authFlags(flags: { superDigest?: string; gatewayKeyFile?: string }): string {
  return [
    ...(flags.superDigest === undefined ? [] : [' --super-digest <digest>']),
    ...(flags.gatewayKeyFile === undefined ? [] : [` --gateway-key-file ${flags.gatewayKeyFile}`]),
  ].join('');
}

/**
 * What a deployment's auth holds, for the messages that say where it is kept: `super digest`,
 * `gateway key`, `super digest and gateway key`, or undefined when neither is set.
 */
export function heldAuth(auth: DeploymentAuth): string | undefined {
  const held = [
    ...(auth.superDigest === undefined ? [] : ['super digest']),
    ...(auth.gatewayKey === undefined ? [] : ['gateway key']),
  ];
  return held.length === 0 ? undefined : held.join(' and ');
}
