/** A local webhook receiver that records what Alertmanager delivers (for end-to-end alert tests). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The body Alertmanager posts to a webhook receiver (version 4). */
export interface WebhookMessage {
  readonly receiver: string;
  readonly status: 'firing' | 'resolved';
  readonly alerts: ReadonlyArray<{
    readonly status: 'firing' | 'resolved';
    readonly labels: Record<string, string>;
    readonly annotations: Record<string, string>;
    readonly startsAt: string;
    readonly endsAt: string;
  }>;
  readonly groupLabels: Record<string, string>;
  readonly commonLabels: Record<string, string>;
}

export interface WebhookReceiver {
  readonly url: string;
  /** Everything received so far, in arrival order, with the path it came to. */
  readonly received: Array<{ path: string; at: number; message: WebhookMessage }>;
  stop(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: WebhookReceiver['received'] = [];
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        received.push({ path: req.url ?? '/', at: Date.now() / 1000, message: JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookMessage });
        res.writeHead(200).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    stop: () =>
      new Promise<void>((resolve) => {
        srv.closeAllConnections();
        srv.close(() => resolve());
      }),
  };
}
