import { generateDigest } from '@faaskeeper/core';
import { Argument, type Command, Option } from 'commander';
import type { CliStreams } from './main.js';
import { ExitCode, UsageError } from './shell/commands.js';

/** The options of `faaskeeper digest`, as the CLI's declaration parses them. */
export interface DigestFlags {
  digestOnly?: boolean;
}

/**
 * Declares `faaskeeper digest [user:password...]` (the credentials come as the action's first
 * argument) under the program: ZooKeeper's `DigestAuthenticationProvider` main class.
 */
export function declareDigestCommand(program: Command): Command {
  return program
    .command('digest')
    .summary('the digest of user:password, for digest ACLs and --super-digest (as ZooKeeper makes it)')
    .description(
      "Prints the digest of each user:password as ZooKeeper's DigestAuthenticationProvider main class does: user:password->user:<base64 sha1>. The part after -> is what a digest ACL entry names (setAcl /a digest:user:<base64 sha1>:cdrwa) and, for the user super, what --super-digest takes. Without arguments the credentials are read from stdin, one per line, so that the password does not show in ps.",
    )
    .addArgument(new Argument('[user:password...]', 'the credentials (default: one per line on stdin)'))
    .addOption(new Option('--digest-only', 'print only user:<base64 sha1>, for scripts'));
}

/** The non-empty lines of a stream (without their line ends). */
async function linesOf(input: NodeJS.ReadableStream): Promise<string[]> {
  let text = '';
  for await (const chunk of input) text += chunk.toString();
  return text.split(/\r?\n/).filter((line) => line !== '');
}

/**
 * `faaskeeper digest` with its parsed arguments and options: one line per credential.
 * @throws UsageError when there are no credentials (none given, and stdin a terminal or empty).
 */
export async function runDigestCommand(
  credentials: readonly string[],
  flags: DigestFlags,
  streams: CliStreams,
): Promise<ExitCode> {
  let given = credentials;
  if (given.length === 0) {
    // A terminal would wait for input nobody knows is asked for.
    if (streams.input.isTTY === true)
      throw new UsageError('digest needs user:password, as an argument or on stdin (one per line)');
    given = await linesOf(streams.input);
    if (given.length === 0) throw new UsageError('digest read no user:password from stdin');
  }
  for (const credential of given) {
    const digest = generateDigest(credential);
    streams.output.write(`${flags.digestOnly === true ? digest : `${credential}->${digest}`}\n`);
  }
  return ExitCode.OK;
}
