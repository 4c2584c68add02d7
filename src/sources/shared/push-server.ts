import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** Listens on `host:port` (an empty host: every interface); resolves once listening. */
export async function listenPush(address: string, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; address: string }> {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i) || '0.0.0.0';
  const port = Number(address.slice(i + 1));
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address();
  return { server, address: typeof a === 'object' && a ? `${a.address}:${a.port}` : address };
}

/** Closes the server; after a moment for answers in flight, cuts what is left (keep-alive, slow uploads). */
export function closePush(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    setTimeout(() => server.closeAllConnections(), 100).unref();
  });
}
