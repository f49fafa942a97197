/**
 * What the sidecar's HTTP API and the live simulator's server share: plain and JSON answers,
 * bounded request bodies, listening and a bounded close.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The largest request body read (a scenario name or an incident request is a few bytes). */
export const MAX_BODY = 64 * 1024;

/** A request that cannot be answered as asked (answered 400 with the message). */
export class BadRequest extends Error {
  override readonly name = 'BadRequest';
}

/** Answers `status` with `body` as `type`; never cached (every answer describes the moment). */
export function send(res: http.ServerResponse, status: number, body: string, type: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

/** Answers `status` with `body` as one line of JSON. */
export function json(res: http.ServerResponse, status: number, body: unknown): void {
  send(res, status, JSON.stringify(body) + '\n', 'application/json');
}

/** The request body as text; throws BadRequest when it is larger than MAX_BODY. */
export async function readBody(req: http.IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BODY) throw new BadRequest(`request body larger than ${MAX_BODY} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A body that must be a JSON object; throws BadRequest saying what it is instead. */
export function parseJsonObject(body: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new BadRequest(`request body is not JSON: ${body.slice(0, 80)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new BadRequest('request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** Starts listening; rejects with the listen error (EADDRINUSE, EACCES) instead of emitting it. */
export function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** `http://host:port` of a listening server (IPv6 hosts in brackets); undefined when not listening. */
export function addressOf(server: http.Server): string | undefined {
  const addr = server.address() as AddressInfo | null;
  if (!addr) return undefined;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return `http://${host}:${addr.port}`;
}

/**
 * Stops listening and resolves once every connection is closed: idle ones at once, busy ones
 * given `graceMs` to finish their answer before they are cut.
 */
export function closeServer(server: http.Server, graceMs = 2000): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
