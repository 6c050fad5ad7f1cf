/**
 * The target's response on its way to the client: hop-by-hop headers and cookies removed, the body
 * streamed with backpressure (pipeline), or, when the session masks results, JSON and text bodies
 * masked first (whole bodies read up to a limit; watch streams and JSON lines line by line).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { ResultMasking } from '../engine.js';
import { stripResponseCredentials } from './credentials.js';
import { stripHopByHop } from './hop-by-hop.js';
import { maskJson } from './json-masking.js';

export interface ResponseOutcome {
  status: number;
  /** Body bytes sent to the client. */
  bytes: number;
  error?: string;
}

export interface RelayOptions {
  masking: ResultMasking | undefined;
  method: string;
  /** Largest body read whole for masking. */
  maxMaskedBodyBytes?: number;
}

const DEFAULT_MAX_MASKED_BODY = 32 * 1024 * 1024;

export function responseHeaders(proxyRes: IncomingMessage): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ...proxyRes.headers };
  stripHopByHop(headers);
  stripResponseCredentials(headers);
  return headers;
}

export function relayResponse(proxyRes: IncomingMessage, res: ServerResponse, options: RelayOptions): Promise<ResponseOutcome> {
  const status = proxyRes.statusCode ?? 502;
  const headers = responseHeaders(proxyRes);
  const kind = options.masking ? maskedKind(headers, status, options.method) : 'pass';
  if (kind === 'pass') return stream(proxyRes, res, status, headers, undefined);
  delete headers['content-length'];
  if (headers['content-encoding'] && headers['content-encoding'] !== 'identity') {
    proxyRes.destroy();
    return Promise.resolve(refuse(res, 'airlock: the response is compressed and the policy masks results; it cannot be masked, so it is withheld'));
  }
  const masking = options.masking!;
  if (kind === 'lines') return stream(proxyRes, res, status, headers, lineMasker((line) => maskJson(line, masking) ?? masking.maskText(line)));
  return readWhole(proxyRes, options.maxMaskedBodyBytes ?? DEFAULT_MAX_MASKED_BODY).then((body) => {
    if (body === undefined) return refuse(res, 'airlock: the response is larger than the agent masks in one piece; it is withheld');
    if (body === 'gone') {
      res.destroy();
      return { status, bytes: 0, error: 'the target ended the response early' };
    }
    const text = body.toString('utf8');
    let masked: string;
    if (kind === 'json') {
      const json = maskJson(text, masking);
      if (json === undefined && masking.hasColumnRules) return refuse(res, 'airlock: the response claims to be JSON but is not, so field rules cannot be applied; it is withheld');
      masked = json ?? masking.maskText(text);
    } else masked = masking.maskText(text);
    const out = Buffer.from(masked);
    headers['content-length'] = out.length;
    res.writeHead(status, proxyRes.statusMessage, headers);
    res.end(out);
    return { status, bytes: out.length };
  });
}

type MaskedKind = 'pass' | 'json' | 'lines' | 'text';

function maskedKind(headers: OutgoingHttpHeaders, status: number, method: string): MaskedKind {
  if (method === 'HEAD' || status === 204 || status === 304 || status < 200) return 'pass';
  const type = String(headers['content-type'] ?? '').toLowerCase();
  if (/stream=watch|ndjson|jsonl|json-seq/.test(type)) return 'lines';
  if (/[/+]json\b/.test(type)) return 'json';
  if (type.startsWith('text/') || /xml|yaml|csv|javascript/.test(type)) return 'text';
  // Binary bodies (images, archives, protobuf) carry no text the detectors could read.
  return 'pass';
}

/**
 * Pipes the body with backpressure (pipe pauses the source while the client is slow). Not pipeline():
 * it costs an AbortController and its DOMException per response, a measurable share of a small request.
 */
function stream(proxyRes: IncomingMessage, res: ServerResponse, status: number, headers: OutgoingHttpHeaders, transform: Transform | undefined): Promise<ResponseOutcome> {
  return new Promise((resolve) => {
    let bytes = 0;
    let settled = false;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      resolve({ status, bytes, ...(error ? { error } : {}) });
    };
    const broken = (err?: Error) => {
      // Destroying the request to the target when the client left also ends this response: say which.
      if (res.destroyed && !res.writableFinished) return finish('the client went away before the response ended');
      res.destroy();
      proxyRes.destroy();
      finish(`the target ended the response early${err ? `: ${err.message}` : ''}`);
    };
    res.writeHead(status, proxyRes.statusMessage, headers);
    const source = transform ? proxyRes.pipe(transform) : proxyRes;
    source.on('data', (chunk: Buffer) => (bytes += chunk.length));
    source.pipe(res);
    res.once('finish', () => finish());
    res.once('close', () => {
      if (res.writableFinished) return;
      proxyRes.destroy();
      finish('the client went away before the response ended');
    });
    proxyRes.once('aborted', () => broken());
    proxyRes.once('error', broken);
    transform?.once('error', broken);
  });
}

function readWhole(proxyRes: IncomingMessage, limit: number): Promise<Buffer | undefined | 'gone'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    proxyRes.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        proxyRes.destroy();
        return resolve(undefined);
      }
      chunks.push(chunk);
    });
    proxyRes.once('end', () => resolve(Buffer.concat(chunks)));
    proxyRes.once('error', () => resolve('gone'));
    proxyRes.once('aborted', () => resolve('gone'));
  });
}

function refuse(res: ServerResponse, reason: string): ResponseOutcome {
  const body = Buffer.from(`${JSON.stringify({ error: 'bad_gateway', reason })}\n`);
  if (!res.headersSent) {
    res.writeHead(502, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
    res.end(body);
  } else res.destroy();
  return { status: 502, bytes: body.length, error: reason };
}

/** Masks each complete line; a line longer than the limit ends the stream rather than pass unmasked. */
function lineMasker(mask: (line: string) => string, maxLine = DEFAULT_MAX_MASKED_BODY): Transform {
  let pending = '';
  const decoder = new StringDecoder('utf8');
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      pending += decoder.write(chunk);
      const lines = pending.split('\n');
      pending = lines.pop()!;
      if (pending.length > maxLine) return cb(new Error('a line of the response is too long to mask'));
      cb(null, lines.length ? lines.map((l) => `${mask(l)}\n`).join('') : undefined);
    },
    flush(cb) {
      pending += decoder.end();
      cb(null, pending ? mask(pending) : undefined);
    },
  });
}
