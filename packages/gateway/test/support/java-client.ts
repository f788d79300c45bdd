/**
 * Compiles and runs the Java program under `test/compat/java/` that drives Apache ZooKeeper's own Java
 * client (Debian's `libzookeeper-java`). The class path is `zookeeper.jar` plus the jars its manifest's
 * `Class-Path` names, plus `slf4j-simple` so the client's logging goes to stderr at WARN instead of a
 * "no binding" warning.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manifestClassPath } from './jar-manifest.js';
import { type ProcessRun, runProcess } from './process.js';

/** Debian's client jar (same jar as the server's). */
export const ZOOKEEPER_JAR = process.env.ZOOKEEPER_JAR ?? '/usr/share/java/zookeeper.jar';
const SLF4J_SIMPLE_JAR = '/usr/share/java/slf4j-simple.jar';
/** Where the Java sources live. */
export const JAVA_SOURCE_DIR = fileURLToPath(new URL('../compat/java/', import.meta.url));

/** zookeeper.jar, its manifest's dependencies and an SLF4J binding, as a class path. */
export function zooKeeperClassPath(): string {
  if (!existsSync(ZOOKEEPER_JAR)) {
    throw new Error(`${ZOOKEEPER_JAR} is missing: apt-get install zookeeper libzookeeper-java`);
  }
  const jars = [ZOOKEEPER_JAR, ...manifestClassPath(ZOOKEEPER_JAR)];
  if (existsSync(SLF4J_SIMPLE_JAR)) jars.push(SLF4J_SIMPLE_JAR);
  return jars.join(':');
}

/** A compiled Java program: its class directory and the class path to run it with. */
export interface CompiledJava {
  classDir: string;
  classPath: string;
}

/** Compiles `sources` (file names under `test/compat/java/`) into a fresh temporary directory. */
export function compileJava(sources: readonly string[]): CompiledJava {
  const classDir = mkdtempSync(join(tmpdir(), 'faaskeeper-zk-java-'));
  const classPath = zooKeeperClassPath();
  const javac = process.env.JAVAC ?? 'javac';
  const result = spawnSync(
    javac,
    [
      '-nowarn',
      '-encoding',
      'UTF-8',
      '-d',
      classDir,
      '-cp',
      classPath,
      ...sources.map((s) => join(JAVA_SOURCE_DIR, s)),
    ],
    { encoding: 'utf8' },
  );
  if (result.error !== undefined || result.status !== 0) {
    throw new Error(`javac failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stderr}`);
  }
  return { classDir, classPath: `${classDir}:${classPath}` };
}

/** What a finished Java run printed. */
export type JavaRun = ProcessRun;

/**
 * Runs `mainClass` with `args`, killing it (by the PID it was started with) after `timeoutMs`: a server
 * that never answers must fail the test, not hang it.
 */
export function runJava(
  compiled: CompiledJava,
  mainClass: string,
  args: readonly string[],
  timeoutMs = 60_000,
): Promise<JavaRun> {
  return runProcess(
    process.env.JAVA ?? 'java',
    [
      '-Xss512k',
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=error',
      '-Dorg.slf4j.simpleLogger.logFile=System.err',
      '-cp',
      compiled.classPath,
      mainClass,
      ...args,
    ],
    { timeoutMs },
  );
}
