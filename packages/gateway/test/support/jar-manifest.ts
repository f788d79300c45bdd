/**
 * Reads a jar's `META-INF/MANIFEST.MF` without unzip or the JDK's `jar` tool (a fresh CI machine may have
 * neither on PATH): a jar is a zip file, so find the entry in the central directory and inflate it.
 */
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;

/** The text of one entry of a zip file, or undefined when the archive has no such entry. */
export function readZipEntry(zipFile: string, entryName: string): string | undefined {
  const zip = readFileSync(zipFile);
  // The end record is at least 22 bytes and ends with a comment of up to 64 KiB: scan back for it.
  let end = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === END_OF_CENTRAL_DIRECTORY) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new Error(`${zipFile} is not a zip file (no end of central directory)`);
  const entries = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  for (let n = 0; n < entries; n++) {
    if (zip.readUInt32LE(at) !== CENTRAL_DIRECTORY_ENTRY)
      throw new Error(`${zipFile}: bad central directory`);
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localHeader = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    if (name === entryName) {
      if (zip.readUInt32LE(localHeader) !== LOCAL_FILE_HEADER)
        throw new Error(`${zipFile}: bad local header`);
      const dataStart =
        localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
      const raw = zip.subarray(dataStart, dataStart + compressedSize);
      if (method === 0) return raw.toString('utf8');
      if (method === 8) return inflateRawSync(raw).toString('utf8');
      throw new Error(`${zipFile}: ${entryName} uses unsupported compression method ${method}`);
    }
    at += 46 + nameLength + extraLength + commentLength;
  }
  return undefined;
}

/**
 * The jars a jar's manifest names in `Class-Path` (space-separated; continuation lines start with one
 * space, which joins them). Relative entries are resolved against the jar's directory, as the JVM does.
 */
export function manifestClassPath(jar: string): string[] {
  const manifest = readZipEntry(jar, 'META-INF/MANIFEST.MF');
  if (manifest === undefined) return [];
  const unfolded = manifest.replace(/\r?\n /g, '');
  const line = unfolded.split(/\r?\n/).find((l) => l.startsWith('Class-Path:'));
  if (line === undefined) return [];
  const dir = jar.slice(0, jar.lastIndexOf('/') + 1);
  return line
    .slice('Class-Path:'.length)
    .trim()
    .split(/\s+/)
    .filter((entry) => entry !== '')
    .map((entry) => (entry.startsWith('/') ? entry : dir + entry));
}
