import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does with one request. */
export type Fault =
  | { kind: 'pass' }
  /** Close the connection without forwarding (the server never sees it). */
  | { kind: 'drop' }
  /** Forward it, then close the connection instead of answering (the server did the work; the client never learns). */
  | { kind: 'drop-after' }
  /** Answer this status without forwarding (optionally with Retry-After and a body). */
  | { kind: 'status'; status: number; retryAfter?: string; body?: string; contentType?: string }
  /** Wait, then forward. */
  | { kind: 'delay'; ms: number };

/** One request as the proxy saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: string;
  fault: Fault['kind'];
}

/** A fault-injecting HTTP proxy on a loopback port in front of a real server (tests only). */
export interface FaultProxy {
  uri: string;
  /** Every request, in arrival order. */
  seen: SeenRequest[];
  /** Decides the fault per request (default: pass everything). */
  plan: (req: { method: string; path: string; body: string; index: number }) => Fault;
  /** Requests by `method path-without-query` whose fault was 'pass', 'delay' or 'drop-after' (reached the server). */
  forwarded(method: string, pathPart: string): number;
  close(): Promise<void>;
}

/**
 * Starts a proxy to `upstream`. With `requireAuth`, requests without exactly that Authorization header get a
 * plain-text 401, and the header is stripped before forwarding (the server behind needs none).
 */
export async function startFaultProxy(upstream: string, options: { requireAuth?: string } = {}): Promise<FaultProxy> {
  const target = new URL(upstream);
  const seen: SeenRequest[] = [];
  const proxy: FaultProxy = {
    uri: '',
    seen,
    plan: () => ({ kind: 'pass' }),
    forwarded: (method, pathPart) =>
      seen.filter(
        (s) => s.method === method && s.path.split('?')[0]!.includes(pathPart) && ['pass', 'delay', 'drop-after'].includes(s.fault),
      ).length,
    close: async () => {},
  };
  const forward = (
    req: IncomingMessage,
    body: Buffer,
    onResponse: (status: number, headers: IncomingMessage['headers'], data: Buffer) => void,
    onError: () => void,
  ) => {
    const headers = { ...req.headers, host: target.host };
    delete headers.authorization;
    headers['content-length'] = String(body.length);
    const out = httpRequest({ hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => onResponse(res.statusCode ?? 502, res.headers, Buffer.concat(parts)));
      res.on('error', onError);
    });
    out.on('error', onError);
    out.end(body);
  };
  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const path = req.url ?? '/';
    const method = req.method ?? 'GET';
    const authorization = req.headers.authorization;
    const text = body.toString('utf8');
    if (options.requireAuth !== undefined && authorization !== options.requireAuth) {
      seen.push({ method, path, authorization, body: text, fault: 'status' });
      res.writeHead(401, { 'content-type': 'text/plain' }).end('Unauthorized: credentials required\n');
      return;
    }
    const fault = path.startsWith('/health') ? ({ kind: 'pass' } as Fault) : proxy.plan({ method, path, body: text, index: seen.length });
    seen.push({ method, path, authorization, body: text, fault: fault.kind });
    const relay = () =>
      forward(
        req,
        body,
        (status, headers, data) => {
          const h = { ...headers };
          delete h['transfer-encoding'];
          delete h.connection;
          h['content-length'] = String(data.length);
          res.writeHead(status, h).end(data);
        },
        () => res.destroy(),
      );
    switch (fault.kind) {
      case 'pass':
        relay();
        break;
      case 'drop':
        req.socket.destroy();
        break;
      case 'drop-after':
        forward(
          req,
          body,
          () => req.socket.destroy(),
          () => req.socket.destroy(),
        );
        break;
      case 'status': {
        const headers: Record<string, string> = { 'content-type': fault.contentType ?? 'application/json' };
        if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
        res
          .writeHead(fault.status, headers)
          .end(fault.body ?? JSON.stringify({ error_code: 'TEMPORARILY_UNAVAILABLE', message: 'injected fault' }));
        break;
      }
      case 'delay':
        setTimeout(relay, fault.ms);
        break;
    }
  };
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => handle(req, res, Buffer.concat(parts)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  proxy.uri = `http://127.0.0.1:${port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
