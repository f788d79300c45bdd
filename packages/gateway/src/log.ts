/** One line of the gateway's log: what happened, to which connection or session, and why. */
export interface GatewayLogEntry {
  level: 'info' | 'warn' | 'error';
  /** What happened: `listening`, `connected`, `session`, `closed`, `refused`, `error`, ... */
  event: string;
  /** The remote address `host:port`, for connection events. */
  remote?: string;
  /** The session id in ZooKeeper's hex form (`0x...`). */
  session?: string;
  /** Why a connection was closed or refused. */
  reason?: string;
  /** Anything else worth a human's eye. */
  message?: string;
}

/** A log sink. */
export type GatewayLog = (line: GatewayLogEntry) => void;

/** The default sink: one JSON line per entry on stderr, with a timestamp. */
export const stderrLog: GatewayLog = (line) => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`);
};

/** A session id as ZooKeeper logs it. */
export const hexId = (id: number | bigint): string => `0x${id.toString(16)}`;
