// `npm run bench -- --tracing`: an OTLP/HTTP endpoint on loopback that accepts every trace export
// and discards it, answering as a collector does (200, an empty protobuf response), so Tollgate's
// cost with tracing on — spans, batching, protobuf encoding, the HTTP sends — can be compared with
// tracing off without a collector's own CPU in the way. It runs in the benchmark's runner process,
// whose CPU is not the gateway's.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TraceSink {
  /** the value for OTEL_EXPORTER_OTLP_ENDPOINT */
  url: string;
  /** exports and bytes received so far */
  received(): { exports: number; bytes: number };
  stop(): Promise<void>;
}

export async function startTraceSink(): Promise<TraceSink> {
  let exports = 0;
  let bytes = 0;
  const server = http.createServer((req, res) => {
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      if (req.url === '/v1/traces') exports++;
      // An ExportTraceServiceResponse with no partial success is an empty message: zero bytes.
      res.writeHead(req.url === '/v1/traces' ? 200 : 404, { 'content-type': 'application/x-protobuf', 'content-length': 0 });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received: () => ({ exports, bytes }),
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
