import type { Server } from 'node:http';
import { type HttpFunction, http } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';

/** HTTP functions served on 127.0.0.1, one server (one URL) per function as Cloud Functions gives. */
export interface ServedFunctions {
  /** `http://127.0.0.1:<port>/` of a function. */
  url(name: string): string;
  /** Stops every server (and waits for requests in progress). */
  close(): Promise<void>;
}

/**
 * Serves HTTP functions with `@google-cloud/functions-framework` from code, each on its own port
 * of 127.0.0.1 (the framework's CLI would bind every interface). Functions are registered under
 * `<prefix>-<name>`, so that several deployments can share a process.
 */
export async function serveFunctions(
  prefix: string,
  functions: Record<string, HttpFunction>,
): Promise<ServedFunctions> {
  const servers = new Map<string, { server: Server; port: number }>();
  try {
    for (const [name, fn] of Object.entries(functions)) {
      const registered = `${prefix}-${name}`;
      http(registered, fn);
      const server = getTestServer(registered);
      const port = await new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
          const address = server.address();
          resolve(typeof address === 'object' && address !== null ? address.port : 0);
        });
      });
      servers.set(name, { server, port });
    }
  } catch (error) {
    await closeAll([...servers.values()].map((s) => s.server));
    throw error;
  }
  return {
    url(name) {
      const s = servers.get(name);
      if (s === undefined) throw new Error(`no function ${name}`);
      return `http://127.0.0.1:${s.port}/`;
    },
    close: () => closeAll([...servers.values()].map((s) => s.server)),
  };
}

async function closeAll(servers: Server[]): Promise<void> {
  await Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Keep-alive connections from the emulator would hold close() open.
          server.closeAllConnections?.();
        }),
    ),
  );
}
