/**
 * A recording HTTP proxy in front of one local emulator (fauxqs or DynamoDB Local), on 127.0.0.1:
 * every AWS request that passes is logged with its API action, the queue or table it names, and
 * when it started and ended. The meter counts billable units; this says which calls they were, and
 * how many long polls were open at once — what the meter cannot tell apart.
 */
import {
  Agent,
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';

/** One request that went through the proxy. */
export interface LoggedRequest {
  /** `SQS.ReceiveMessage`, `DynamoDB.TransactWriteItems`, `S3.GET`, … */
  action: string;
  /** The `QueueUrl`, `QueueName` or `TableName` of a JSON request, else the path (S3). */
  resource: string;
  /** The sort key a DynamoDB item request names (`Key.sk`), if any: which lease item a renewal wrote. */
  item?: string;
  /** `performance.now()` when the request arrived and when its response ended (undefined: open). */
  start: number;
  end: number | undefined;
}

/** A running recording proxy. */
export interface RequestLog {
  /** `http://127.0.0.1:<port>`: the endpoint to give the SDK instead of the emulator's. */
  readonly endpoint: string;
  readonly requests: LoggedRequest[];
  close(): Promise<void>;
}

/** The action of a request: JSON protocols name it in `X-Amz-Target`; S3 (REST) is its method. */
function actionOf(req: IncomingMessage): string {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') {
    const [service = '', op = target] = target.split('.');
    return `${service.startsWith('DynamoDB') ? 'DynamoDB' : service === 'AmazonSQS' ? 'SQS' : service}.${op}`;
  }
  return `S3.${req.method ?? '?'}`;
}

/** The queue or table a JSON request body names (else the request path), and the item's sort key. */
function resourceOf(req: IncomingMessage, body: Buffer): { resource: string; item?: string } {
  if (typeof req.headers['x-amz-target'] === 'string' && body.length > 0) {
    try {
      const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      const sk = (parsed.Key as { sk?: { S?: unknown } } | undefined)?.sk?.S;
      const item = typeof sk === 'string' ? { item: sk } : {};
      for (const key of ['QueueUrl', 'QueueName', 'TableName']) {
        const value = parsed[key];
        if (typeof value === 'string') return { resource: value, ...item };
      }
    } catch (error) {
      // Only the label is lost: the request is still forwarded and counted under its path.
      console.warn(`request-log: unparsable JSON body (${String(error)})`);
    }
  }
  return { resource: req.url ?? '/' };
}

/** Starts a proxy on 127.0.0.1 (any free port) that forwards everything to `target` and logs it. */
export async function startRequestLog(target: string): Promise<RequestLog> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const requests: LoggedRequest[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const entry: LoggedRequest = {
        action: actionOf(req),
        ...resourceOf(req, body),
        start: performance.now(),
        end: undefined,
      };
      requests.push(entry);
      const out = request(
        {
          agent,
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (reply) => {
          res.writeHead(reply.statusCode ?? 502, reply.headers);
          reply.pipe(res);
          reply.on('end', () => {
            entry.end = performance.now();
          });
        },
      );
      out.on('error', (error) => {
        entry.end = performance.now();
        // The SDK sees a 502 and retries or reports it; the emulator's failure is not hidden.
        if (!res.headersSent) res.writeHead(502);
        res.end(String(error));
      });
      out.end(body);
      // A client that aborts its long poll (a subscription closing) ends the upstream call too.
      res.on('close', () => {
        if (entry.end !== undefined) return;
        entry.end = performance.now();
        out.destroy();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}
