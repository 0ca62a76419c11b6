// A real OTLP/HTTP trace receiver on loopback, for tests: it accepts what a collector accepts
// (POST /v1/traces, protobuf, optionally gzip), decodes it with the official OTLP .proto
// definitions (otlp-proto/, opentelemetry-proto v1.11.0, Apache-2.0) through protobufjs — a decoder
// that shares no code with the exporter's hand-written encoder — and answers an encoded
// ExportTraceServiceResponse like a collector does. Tests read the decoded spans, flattened.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';

const PROTOS = path.join(import.meta.dirname, 'otlp-proto');
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => path.join(PROTOS, target);
root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto');
const Request = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const Response = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');
const SPAN_KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'] as const;
const STATUS_CODES = ['UNSET', 'OK', 'ERROR'] as const;

export type AttrValue = string | number | boolean | null | AttrValue[];

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span */
  parentSpanId: string;
  name: string;
  kind: (typeof SPAN_KINDS)[number];
  attributes: Record<string, AttrValue>;
  status: { code: (typeof STATUS_CODES)[number]; message: string };
  startNs: bigint;
  endNs: bigint;
  resource: Record<string, AttrValue>;
  scope: string;
}

export interface ReceivedExport {
  headers: http.IncomingHttpHeaders;
  contentType: string;
  spans: ReceivedSpan[];
}

export interface OtlpReceiver {
  /** the base URL, as OTEL_EXPORTER_OTLP_ENDPOINT (spans go to <url>/v1/traces) */
  url: string;
  exports: ReceivedExport[];
  spans(): ReceivedSpan[];
  /** Resolves with the spans once `done(spans)` holds; rejects after `timeoutMs`. */
  waitFor(done: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  /** bodies it could not decode, with why: a test expects none */
  rejected: string[];
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const exports: ReceivedExport[] = [];
  const rejected: string[] = [];
  const waiters = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const contentType = String(req.headers['content-type'] ?? '');
      if (req.method !== 'POST' || req.url !== '/v1/traces') return answer(res, 404, 'not found');
      if (!contentType.startsWith('application/x-protobuf')) return answer(res, 415, `unsupported content type ${contentType}`);
      let body = Buffer.concat(chunks);
      try {
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        exports.push({ headers: req.headers, contentType, spans: decode(body) });
      } catch (err) {
        rejected.push((err as Error).message);
        return answer(res, 400, (err as Error).message);
      }
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end(Buffer.from(Response.encode(Response.create({})).finish()));
      for (const w of waiters) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const spans = () => exports.flatMap((e) => e.spans);
  return {
    url: `http://127.0.0.1:${port}`,
    exports,
    rejected,
    spans,
    waitFor(done, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!done(spans())) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(spans());
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`OTLP receiver: condition not met in ${timeoutMs} ms; received ${spans().map((s) => s.name).join(', ') || 'no spans'}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function answer(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(message);
}

// ---- decoding: the generic protobufjs message, flattened into plain values ----

interface PbAnyValue { stringValue?: string; boolValue?: boolean; intValue?: string; doubleValue?: number; arrayValue?: { values?: PbAnyValue[] }; bytesValue?: Uint8Array }
interface PbKeyValue { key: string; value?: PbAnyValue }
interface PbSpan {
  traceId: Uint8Array; spanId: Uint8Array; parentSpanId?: Uint8Array; name: string; kind?: number;
  startTimeUnixNano?: string; endTimeUnixNano?: string;
  attributes?: PbKeyValue[]; status?: { code?: number; message?: string };
}
interface PbRequest { resourceSpans?: Array<{ resource?: { attributes?: PbKeyValue[] }; scopeSpans?: Array<{ scope?: { name?: string }; spans?: PbSpan[] }> }> }

function decode(body: Buffer): ReceivedSpan[] {
  // As a plain object: only the fields present on the wire (a oneof's unset members are absent), 64-bit integers as strings.
  const request = Request.toObject(Request.decode(body), { longs: String, enums: Number }) as PbRequest;
  const out: ReceivedSpan[] = [];
  for (const rs of request.resourceSpans ?? []) {
    const resource = attrs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          name: s.name,
          kind: SPAN_KINDS[s.kind ?? 0] ?? 'UNSPECIFIED',
          attributes: attrs(s.attributes),
          status: { code: STATUS_CODES[s.status?.code ?? 0] ?? 'UNSET', message: s.status?.message ?? '' },
          startNs: BigInt(s.startTimeUnixNano ?? 0),
          endNs: BigInt(s.endTimeUnixNano ?? 0),
          resource,
          scope: ss.scope?.name ?? '',
        });
      }
    }
  }
  return out;
}

const hex = (b: Uint8Array | undefined): string => (b && b.length ? Buffer.from(b).toString('hex') : '');

function attrs(list: PbKeyValue[] | undefined): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const kv of list ?? []) out[kv.key] = value(kv.value);
  return out;
}

function value(v: PbAnyValue | undefined): AttrValue {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(value);
  if (v.bytesValue) return hex(v.bytesValue);
  return null;
}
