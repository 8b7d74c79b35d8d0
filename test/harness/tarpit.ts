// A "hung target": accepts TCP connections and never answers, so tests can check
// that every executor applies its own timeout instead of waiting forever.
import net from 'node:net';

export interface Tarpit {
  port: number;
  /** e.g. url('postgres') → postgres://127.0.0.1:PORT */
  url(scheme: string): string;
  /** Destroys every open connection and closes the listener. */
  stop(): Promise<void>;
}

export async function startTarpit(): Promise<Tarpit> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // Clients that give up reset the connection; that is expected here.
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;

  return {
    port,
    url: (scheme) => `${scheme}://127.0.0.1:${port}`,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
