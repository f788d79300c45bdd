/**
 * The code under test: a tiny service registry on FaaSKeeper. Each running instance registers an
 * ephemeral sequential node under `/services/<name>`; it disappears when the instance's session
 * ends, so the registry never lists a dead instance for longer than the session timeout.
 * @packageDocumentation
 */
import { CreateMode, type FaaSKeeperClient, isFaaSKeeperError } from '@faaskeeper/client';

const decoder = new TextDecoder();

/** Creates `/services` and `/services/<name>` when missing. */
async function ensureService(zk: FaaSKeeperClient, name: string): Promise<string> {
  for (const path of ['/services', `/services/${name}`]) {
    try {
      await zk.create(path);
    } catch (error) {
      if (!isFaaSKeeperError(error, 'NODEEXISTS')) throw error;
    }
  }
  return `/services/${name}`;
}

/** Registers this session as an instance of `name` at `address`; resolves its node path. */
export async function register(zk: FaaSKeeperClient, name: string, address: string): Promise<string> {
  const base = await ensureService(zk, name);
  return zk.create(`${base}/instance-`, address, { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
}

/** The addresses of the live instances of `name`, in registration order. */
export async function instances(zk: FaaSKeeperClient, name: string): Promise<string[]> {
  let children: string[];
  try {
    children = (await zk.getChildren(`/services/${name}`)).children;
  } catch (error) {
    if (isFaaSKeeperError(error, 'NONODE')) return [];
    throw error;
  }
  const out: string[] = [];
  for (const child of children) {
    try {
      out.push(decoder.decode((await zk.getData(`/services/${name}/${child}`)).data));
    } catch (error) {
      if (!isFaaSKeeperError(error, 'NONODE')) throw error; // gone since the listing
    }
  }
  return out;
}
