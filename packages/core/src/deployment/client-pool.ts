import { type ClientOptions, type ClientTransport, FaaSKeeperClient } from '../client/client.js';
import { FaaSKeeperError } from '../model/errors.js';
import { errorFields, jsonLogger, type Logger } from '../ports/logger.js';
import { Link } from './link.js';

/**
 * The clients of one test deployment (embedded, or local on emulators), each behind a {@link Link}
 * a test can cut and heal; closing the pool closes every client, healing cut ones first so that
 * their sessions end cleanly.
 */
export class ClientPool {
  private readonly links = new Map<FaaSKeeperClient, Link>();
  private closed = false;

  /**
   * @param what names the deployment in errors (`the ${what} is closed`).
   * @param logger where a client that fails to close is logged (`warn`).
   */
  constructor(
    private readonly what: string,
    private readonly logger: Logger = jsonLogger({ level: 'error' }),
  ) {}

  /** Connects a client over `transport`. @throws FaaSKeeperError CONNECTIONLOSS once the pool is closed. */
  async connect(transport: ClientTransport, options: ClientOptions): Promise<FaaSKeeperClient> {
    if (this.closed)
      throw new FaaSKeeperError('CONNECTIONLOSS', `CONNECTIONLOSS: the ${this.what} is closed`);
    const link = new Link(transport);
    const client = await FaaSKeeperClient.connect(link.transport(), options);
    this.links.set(client, link);
    return client;
  }

  /** Cuts a client off: its sends and reads fail and its channel messages wait. */
  partition(client: FaaSKeeperClient): void {
    this.linkOf(client).sever();
  }

  /** Reconnects a partitioned client; messages held meanwhile are delivered. */
  heal(client: FaaSKeeperClient): void {
    this.linkOf(client).heal();
  }

  /** Closes every client, waiting at most `graceMs` for each (a dead deployment does not hang it). */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.links.entries()].map(async ([client, link]) => {
        if (link.isCut) link.heal();
        await Promise.race([
          // The deployment goes away regardless; a session that did not end cleanly expires.
          client
            .close()
            .catch((error) =>
              this.logger.warn(`closing a client of the ${this.what} failed`, errorFields(error)),
            ),
          new Promise((r) => setTimeout(r, graceMs).unref()),
        ]);
      }),
    );
  }

  private linkOf(client: FaaSKeeperClient): Link {
    const link = this.links.get(client);
    if (link === undefined)
      throw new FaaSKeeperError('BADARGUMENTS', `BADARGUMENTS: not a client of this ${this.what}`);
    return link;
  }
}
