import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { commandsOf, createCli, ExitCode, main } from '../src/index.js';
import { memoryStreams } from './helpers.js';

async function cli(args: string[]) {
  const io = memoryStreams();
  const code = await main(args, io.streams);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

/** The words after `faaskeeper` that name a command: `['deploy', 'aws']`. */
function pathOf(command: Command): string[] {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names;
}

// The declaration the CLI parses with; a fresh one per run, as main() makes.
const declared = commandsOf(createCli(memoryStreams().streams).program);
const leaves = declared.filter((c) => c.commands.length === 0);

describe('the command line is generated from one declaration', () => {
  it('declares every command the CLI documents', () => {
    expect(leaves.map((c) => pathOf(c).join(' '))).toEqual([
      'shell',
      'gateway',
      'demo',
      'dev',
      'deploy aws',
      'deploy gcp',
      'synth aws',
      'synth gcp',
      'destroy aws',
      'destroy gcp',
      'digest',
      'cost',
      'version',
    ]);
  });

  it('--help of every command lists each of its declared options, in its usage line and its option list', async () => {
    for (const command of declared.filter((c) => c.parent !== null)) {
      const path = pathOf(command);
      const r = await cli([...path, '--help']);
      expect(r.code, path.join(' ')).toBe(ExitCode.OK);
      expect(r.stderr).toBe('');
      const [usage, ...rest] = r.stdout.split('\n');
      expect(usage).toMatch(new RegExp(`^Usage: faaskeeper ${path.join(' ')}( |$)`));
      for (const option of command.options) {
        // The usage line names an option by its short flag when it has one (`[-c commands]`).
        expect(usage, `${path.join(' ')} usage`).toContain(option.short ?? option.long ?? option.flags);
        // The option list: the flags as declared, and what the option does.
        const line = rest.find((l) => l.trimStart().startsWith(option.flags));
        expect(line, `${path.join(' ')} ${option.flags}`).toBeDefined();
        expect(option.description.length).toBeGreaterThan(0);
      }
      for (const sub of command.commands) expect(r.stdout).toContain(`  ${pathOf(sub).join(' ')} `);
    }
  });

  it('help <command> is <command> --help, and the top-level help lists every command', async () => {
    for (const command of leaves) {
      const path = pathOf(command);
      expect((await cli(['help', ...path])).stdout).toBe((await cli([...path, '--help'])).stdout);
    }
    const top = await cli(['help']);
    for (const command of leaves) expect(top.stdout).toContain(`\n  ${pathOf(command).join(' ')} `);
    expect(top.stdout).toContain('Exit codes: 0 success, 1 a command failed, 2 usage error.');
  });

  it('an unknown option of any command is a one-line error, then the usage line, with exit code 2', async () => {
    for (const command of declared) {
      const path = pathOf(command);
      const r = await cli([...path, '--no-such-option']);
      expect(r.code, path.join(' ')).toBe(ExitCode.USAGE);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^Error: unknown option '--no-such-option'/);
      if (command.parent === null) expect(lines).toHaveLength(1);
      else expect(lines.slice(1)).toEqual([expect.stringMatching(`^Usage: faaskeeper ${path.join(' ')}`)]);
    }
  });

  it('bad values, missing values, conflicts and stray arguments are one-line errors with exit code 2, never a stack trace', async () => {
    for (const args of [
      ['dev', '--provider', 'azure'],
      ['gateway', '--port', '70000'],
      ['synth', 'aws', '--user-store', 'redis'],
      ['synth', 'gcp', '--out'],
      ['deploy', 'gcp', '--database-location', 'eur3', '--existing-database', 'd'],
      ['demo', 'now'],
      ['deploy', 'azure'],
      ['dmeo'],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(ExitCode.USAGE);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^Error: \S/);
      expect(lines.filter((l) => l.startsWith('Error:'))).toHaveLength(1);
      expect(lines.length, r.stderr).toBeLessThanOrEqual(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect((await cli(['dmeo'])).stderr).toBe(
      "Error: unknown command 'dmeo' (Did you mean demo?) (faaskeeper help lists the commands)\n",
    );
  });

  it('an option of another command is refused, not silently taken', async () => {
    for (const [args, option] of [
      [['destroy', 'aws', '--dry-run'], '--dry-run'],
      [['synth', 'aws', '--profile', 'p'], '--profile'],
      [['deploy', 'gcp', '--delete-data'], '--delete-data'],
      [['destroy', 'gcp', '--user-store', 'gcs'], '--user-store'],
    ] as const) {
      const r = await cli([...args]);
      expect(r.code, args.join(' ')).toBe(ExitCode.USAGE);
      expect(r.stderr).toMatch(new RegExp(`^Error: unknown option '${option}'`));
    }
  });
});
