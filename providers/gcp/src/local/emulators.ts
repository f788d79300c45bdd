import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { join } from 'node:path';

/** Where a started emulator listens and which process it is. */
export interface RunningEmulator {
  /** `datastore` or `pubsub`. */
  readonly name: string;
  /** `127.0.0.1:port`, the value for `DATASTORE_EMULATOR_HOST` / `PUBSUB_EMULATOR_HOST`. */
  readonly host: string;
  readonly port: number;
  /** PID of the JVM that listens (started directly, never through a wrapper shell). */
  readonly pid: number;
  /** Stops the emulator by its PID and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
}

/** Why the local GCP stack cannot start on this machine, or `undefined` when it can. */
export function missingEmulators(sdkRoot = findSdkRoot()): string | undefined {
  if (sdkRoot === undefined)
    return 'the Google Cloud SDK (gcloud) is not installed: the Datastore and Pub/Sub emulators come with it';
  if (!existsSync(datastoreJar(sdkRoot)))
    return `the Cloud Datastore emulator is missing under ${sdkRoot}/platform (gcloud components install cloud-datastore-emulator)`;
  if (pubsubJar(sdkRoot) === undefined)
    return `the Pub/Sub emulator is missing under ${sdkRoot}/platform (gcloud components install pubsub-emulator)`;
  if (findJava() === undefined) return 'no java on PATH (the emulators are Java programs)';
  return undefined;
}

let cachedSdkRoot: string | null | undefined;

/**
 * The Google Cloud SDK's root: `$CLOUDSDK_ROOT_DIR`, then `gcloud info`, then the Debian package's
 * /usr/lib/google-cloud-sdk.
 */
export function findSdkRoot(): string | undefined {
  if (cachedSdkRoot !== undefined) return cachedSdkRoot ?? undefined;
  const candidates: string[] = [];
  if (process.env.CLOUDSDK_ROOT_DIR) candidates.push(process.env.CLOUDSDK_ROOT_DIR);
  try {
    const out = execFileSync('gcloud', ['info', '--format=value(installation.sdk_root)'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 15_000,
    }).trim();
    if (out) candidates.push(out);
  } catch {
    // gcloud absent or broken: fall back to the usual place.
  }
  candidates.push('/usr/lib/google-cloud-sdk');
  cachedSdkRoot = candidates.find((c) => existsSync(join(c, 'platform'))) ?? null;
  return cachedSdkRoot ?? undefined;
}

function datastoreJar(sdkRoot: string): string {
  return join(sdkRoot, 'platform', 'cloud-datastore-emulator', 'CloudDatastore.jar');
}

function pubsubJar(sdkRoot: string): string | undefined {
  const lib = join(sdkRoot, 'platform', 'pubsub-emulator', 'lib');
  if (!existsSync(lib)) return undefined;
  const jar = readdirSync(lib).find((f) => /^cloud-pubsub-emulator-.*\.jar$/.test(f));
  return jar === undefined ? undefined : join(lib, jar);
}

function findJava(): string | undefined {
  const home = process.env.JAVA_HOME;
  if (home && existsSync(join(home, 'bin', 'java'))) return join(home, 'bin', 'java');
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'java'))) return join(dir, 'java');
  }
  return undefined;
}

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
    socket.connect(port, '127.0.0.1');
  });
}

/** Every emulator this process started and has not stopped: stopped on exit too. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // On exit only synchronous work runs: signal each recorded PID (never by name).
  process.once('exit', () => {
    for (const child of running) {
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });
}

interface StartSpec {
  name: string;
  java: string;
  args: string[];
  port: number;
  /** A line of the emulator's output that says it serves requests. */
  readyLine: RegExp;
  timeoutMs: number;
}

async function startJava(spec: StartSpec): Promise<RunningEmulator> {
  installExitHook();
  // The JVM itself is the child (no wrapper shell), so the recorded PID is the process that listens.
  const child = spawn(spec.java, spec.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  let sawReady = false;
  let portTaken = false;
  const onData = (chunk: Buffer) => {
    if (output.length < 20_000) output += chunk.toString('utf8');
    if (spec.readyLine.test(output)) sawReady = true;
    if (PORT_TAKEN.test(output)) portTaken = true;
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  exited.then(() => running.delete(child));
  const emulator: RunningEmulator = {
    name: spec.name,
    host: `127.0.0.1:${spec.port}`,
    port: spec.port,
    pid: child.pid ?? -1,
    async stop() {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
        const killer = setTimeout(() => {
          if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
        }, 3000);
        await exited;
        clearTimeout(killer);
      }
      child.stdout?.destroy();
      child.stderr?.destroy();
    },
  };
  const start = Date.now();
  // The ready lines are printed only once the emulator listens, so a bind failure comes first.
  while (!(sawReady && (await canConnect(spec.port)))) {
    // Both emulators log the bind failure; the Datastore one exits, the Pub/Sub one lives on
    // without listening. Either way it will never serve: stop it and say why at once.
    if (portTaken) {
      await emulator.stop();
      throw new PortTakenError(spec.name, spec.port, output.slice(-2000));
    }
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the ${spec.name} emulator exited before it was ready:\n${output.slice(-2000)}`);
    if (Date.now() - start > spec.timeoutMs) {
      await emulator.stop();
      throw new Error(
        `the ${spec.name} emulator was not ready after ${spec.timeoutMs} ms:\n${output.slice(-2000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return emulator;
}

/** What both emulators log when their port is taken (java.net.BindException). */
const PORT_TAKEN = /BindException: Address already in use/;

/** An emulator could not listen on its port: another process has it. */
export class PortTakenError extends Error {
  constructor(name: string, port: number, log: string) {
    super(`the ${name} emulator could not listen on 127.0.0.1:${port} (address already in use):\n${log}`);
    this.name = 'PortTakenError';
  }
}

/** How often an emulator given no port picks another one when the one it picked was taken. */
const PORT_ATTEMPTS = 3;

/**
 * Runs `start` on `port`, or, when none is given, on a port from `pick`: such a port is free only
 * until the JVM binds it, a second or more later, and another process's listener or outgoing
 * connection can take it meanwhile. Then another one is picked (up to {@link PORT_ATTEMPTS} in
 * all); a port the caller chose is not changed. Exported for tests.
 */
export async function startOnPort(
  port: number | undefined,
  start: (port: number) => Promise<RunningEmulator>,
  pick: () => Promise<number> = freePort,
): Promise<RunningEmulator> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(port ?? (await pick()));
    } catch (error) {
      if (!(error instanceof PortTakenError) || port !== undefined || attempt === PORT_ATTEMPTS) throw error;
    }
  }
}

/** Options of {@link startDatastoreEmulator} and {@link startPubSubEmulator}. */
export interface EmulatorOptions {
  /** Port on 127.0.0.1; default a free one. */
  port?: number;
  /** SDK root; default {@link findSdkRoot}. */
  sdkRoot?: string;
  /** How long to wait until it serves. Default 30 s. */
  timeoutMs?: number;
}

function requireSdk(options: EmulatorOptions): { sdkRoot: string; java: string } {
  const sdkRoot = options.sdkRoot ?? findSdkRoot();
  const missing = missingEmulators(sdkRoot);
  if (missing !== undefined || sdkRoot === undefined)
    throw new Error(`cannot start GCP emulators: ${missing}`);
  return { sdkRoot, java: findJava()! };
}

/**
 * Starts Google's Cloud Datastore emulator on 127.0.0.1, in memory (`--testing`: nothing written to
 * disk, strongly consistent), and resolves once it serves.
 */
export async function startDatastoreEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const { sdkRoot, java } = requireSdk(options);
  return startOnPort(options.port, (port) =>
    startJava({
      name: 'datastore',
      java,
      args: [
        '-cp',
        datastoreJar(sdkRoot),
        'com.google.cloud.datastore.emulator.CloudDatastore',
        'start',
        '--testing',
        '--host=127.0.0.1',
        `--port=${port}`,
      ],
      port,
      // Printed once it listens ("Local Datastore initialized" comes before the bind: with its
      // port taken it prints that, then exits).
      readyLine: /Dev App Server is now running|health check endpoint for this emulator/,
      timeoutMs: options.timeoutMs ?? 30_000,
    }),
  );
}

/** Starts Google's Pub/Sub emulator on 127.0.0.1 (in memory) and resolves once it serves. */
export async function startPubSubEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const { sdkRoot, java } = requireSdk(options);
  return startOnPort(options.port, (port) =>
    startJava({
      name: 'pubsub',
      java,
      args: ['-jar', pubsubJar(sdkRoot)!, '--host=127.0.0.1', `--port=${port}`],
      port,
      readyLine: /Server started, listening on/,
      timeoutMs: options.timeoutMs ?? 30_000,
    }),
  );
}
