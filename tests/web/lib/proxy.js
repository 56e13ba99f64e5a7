// A TCP proxy in front of a server that a test can take offline: every open connection is reset and new
// ones are refused until it is back online, as when a laptop drops off the network.
import net from 'node:net';

export async function startProxy(targetPort) {
  const sockets = new Set();
  let online = true;
  const server = net.createServer((client) => {
    if (!online) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cutAll = () => { for (const socket of sockets) socket.resetAndDestroy(); };
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    goOffline() {
      online = false;
      cutAll();
    },
    goOnline() { online = true; },
    close() {
      cutAll();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
