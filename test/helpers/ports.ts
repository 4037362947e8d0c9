// Free TCP port helper for tests: asks the kernel for an unused loopback port.
import { createServer } from 'node:net';

/** Returns a port that was free on 127.0.0.1 a moment ago (another process may still take it: retry on EADDRINUSE). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('freePort: server has no TCP address'));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
