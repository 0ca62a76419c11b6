// The floor: the least a Node HTTP proxy can do. node:http server + one undici Pool (configured like
// Tollgate's), forwarding method, path, body and the response, streaming the response straight
// through. No authentication, no JSON parsing, no logging. Tollgate's targets are ratios to this.
//
//   node bench/bare-proxy.ts <upstream origin> [port]   → prints {"port": N} when listening
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const origin = process.argv[2];
if (!origin) throw new Error('usage: bare-proxy.ts <upstream origin> [port]');
const pool = new Pool(origin, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    pool
      .request({
        method: req.method as 'POST',
        path: req.url ?? '/',
        headers: { 'content-type': 'application/json', authorization: 'Bearer upstream-secret' },
        body: Buffer.concat(chunks),
      })
      .then(async (up) => {
        const type = up.headers['content-type'];
        res.writeHead(up.statusCode, typeof type === 'string' ? { 'content-type': type } : {});
        for await (const chunk of up.body) if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
        res.end();
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[3] ?? 0), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + '\n');
});
process.on('SIGTERM', () => server.close(() => void pool.close().then(() => process.exit(0))));
