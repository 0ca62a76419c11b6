// Plain TCP for HTTP requests no client library would send: malformed, slow, or oversized.
import net from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** the whole exchange, as received */
  raw: string;
  /** ms from connect to the server closing the connection */
  closedAfterMs: number;
}

export interface RawOptions {
  /** written after `request`, one piece every `everyMs` (a slow client) */
  drip?: { text: string; everyMs: number };
  /** give up (and fail) after this long without the server closing */
  timeoutMs?: number;
}

/** Sends `request` as is and reads until the server closes the connection. */
export function rawHttp(url: string, request: string, opts: RawOptions = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    let dripTimer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`server did not close the connection within ${opts.timeoutMs ?? 5000} ms; got: ${Buffer.concat(chunks).toString('latin1').slice(0, 300)}`));
    }, opts.timeoutMs ?? 5000);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => {}); // a reset after the answer is still an answer
    socket.on('close', () => {
      clearTimeout(guard);
      clearInterval(dripTimer);
      resolve(parse(Buffer.concat(chunks).toString('latin1'), performance.now() - t0));
    });
    socket.write(request, 'latin1');
    if (opts.drip) {
      let i = 0;
      const { text, everyMs } = opts.drip;
      dripTimer = setInterval(() => {
        if (i < text.length && socket.writable) socket.write(text[i++]!);
      }, everyMs);
    }
  });
}

function parse(raw: string, closedAfterMs: number): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  const head = end === -1 ? raw : raw.slice(0, end);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  return { status, headers, body: end === -1 ? '' : Buffer.from(raw.slice(end + 4), 'latin1').toString('utf8'), raw, closedAfterMs };
}
