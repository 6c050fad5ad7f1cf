/**
 * One tunnelled HTTP connection: an http.Server of its own parses the client's requests from the
 * tunnel stream; each request is normalised, judged by policy, held for review when the policy says so,
 * and proxied (http-proxy) to the target with the agent's credential in place of anything the client
 * sent. Upgrades (WebSocket, SPDY for kubectl exec/port-forward) are judged the same way and then
 * relayed as bytes. Every request is recorded: method and path, status, response bytes, duration, verdict.
 */
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, type Duplex } from 'node:stream';
import httpProxy from 'http-proxy';
import type { SessionContext, SessionSummary } from '../engine.js';
import { endedMessage } from '../engine.js';
import { STATUS_TEXT, type Problem } from './answers.js';
import { stripClientCredentials } from './credentials.js';
import { stripHopByHop } from './hop-by-hop.js';
import { relayResponse, type ResponseOutcome } from './response-relay.js';
import type { Classified, HttpDialect } from './dialect.js';
import { TunnelSocket } from './tunnel-socket.js';
import { openUpstream, UpstreamConfigError, type Upstream } from './upstream.js';
import { relayUpgrade } from './upgrade-relay.js';
import { decideRequest, DEFAULT_MAX_REVIEW_BODY, type Decision, type RecordedVerdict } from './request-decision.js';

export interface HttpSessionOptions {
  /** Bodies of requests held for review are read whole (reviewers see them, the approval covers them): at most this many bytes. */
  maxReviewBodyBytes?: number;
  connectTimeoutMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
const UNRECORDED_GRACE_MS = 2_000;

/** One request from arrival to its record. */
interface Exchange {
  startedAt: Date;
  startNs: bigint;
  /** Order of arrival: pipelined requests may finish out of order. */
  sequence: number;
  text: string;
  classified?: Classified;
  verdict?: RecordedVerdict;
  reviewId?: number;
  /** The target answered and its response is on its way: the relay records the outcome. */
  relaying?: boolean;
  recorded: boolean;
}

export class HttpProxySession<C extends Classified> {
  private readonly server = http.createServer();
  private readonly proxy = httpProxy.createProxyServer({});
  private upstream: Upstream | undefined;
  private upstreamProblem: string | undefined;
  private sequence = 0;
  /** Whatever must be destroyed when the session ends: requests to the target, upgraded target sockets. */
  private readonly inflight = new Set<{ destroy(error?: Error): void }>();
  private readonly exchanges = new WeakMap<IncomingMessage, Exchange>();
  /** Requests not yet in the record: the session ends only after each is, so none arrives after its end. */
  private readonly unrecorded = new Set<Exchange>();
  private onAllRecorded: (() => void) | undefined;

  constructor(
    private readonly client: Duplex,
    private readonly ctx: SessionContext,
    private readonly dialect: HttpDialect<C>,
    private readonly options: HttpSessionOptions = {},
  ) {}

  run(): Promise<SessionSummary> {
    const { client, ctx } = this;
    try {
      this.upstream = openUpstream(ctx, this.dialect.defaultScheme);
    } catch (err) {
      if (!(err instanceof UpstreamConfigError)) throw err;
      this.upstreamProblem = err.message;
      ctx.logger.warn('http target is not usable', { error: err.message });
    }
    client.on('error', () => undefined); // the close below ends the session either way
    const socket = new TunnelSocket(client);
    socket.on('error', () => undefined);
    // A client's FIN ends the connection (node's default, httpAllowHalfOpen off): HTTP clients do not
    // half-close while they wait, and a held request must be withdrawn when its client is gone.
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.onRequest(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.onUpgrade(req, socket, head));
    this.server.on('connect', (_req: IncomingMessage, socket: Duplex) => this.refuseRaw(socket, { status: 405, error: 'bad_request', reason: 'airlock: CONNECT is not supported; send requests to this address directly' }));
    this.proxy.on('proxyReq', (proxyReq, _req, res) => this.onProxyReq(proxyReq, res as ServerResponse));
    this.proxy.on('proxyRes', (proxyRes, req, res) => this.onProxyRes(proxyRes, req, res as ServerResponse));
    this.proxy.on('econnreset', (_err, req) => this.clientGone(req));
    this.server.emit('connection', socket);

    return new Promise((resolve) => {
      let killed = false;
      const onAbort = () => {
        killed = true;
        client.destroy();
      };
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener('abort', onAbort, { once: true });
      socket.once('close', () => {
        ctx.signal.removeEventListener('abort', onAbort);
        for (const item of this.inflight) item.destroy();
        this.inflight.clear();
        this.upstream?.agent.destroy();
        this.proxy.close();
        const summary: SessionSummary = { bytesFromClient: socket.bytesFromClient, bytesToClient: socket.bytesToClient };
        if (killed) summary.error = { code: 'killed', message: endedMessage(ctx.signal) };
        // What was in flight was just destroyed and records itself within a few turns; never wait long.
        if (this.unrecorded.size === 0) return resolve(summary);
        this.onAllRecorded = () => resolve(summary);
        setTimeout(() => {
          for (const exchange of [...this.unrecorded]) this.record(exchange, { status: 0, bytes: 0, error: 'the session ended before the request did' });
        }, UNRECORDED_GRACE_MS).unref();
      });
    });
  }

  private begin(req: IncomingMessage): Exchange {
    const exchange: Exchange = { sequence: ++this.sequence, startedAt: new Date(), startNs: process.hrtime.bigint(), text: `${req.method ?? ''} ${(req.url ?? '').slice(0, 2048)}`, recorded: false };
    this.exchanges.set(req, exchange);
    this.unrecorded.add(exchange);
    return exchange;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const exchange = this.begin(req);
    const decision = await this.decide(req, exchange, res, true);
    if (res.destroyed) return this.record(exchange, { status: 0, bytes: 0, error: 'the client went away before the request was sent' });
    if (!decision.proceed) return this.refuse(res, exchange, decision.problem);
    if (!this.upstream) return this.refuse(res, exchange, this.unusableTarget());
    this.proxyRequest(req, res, exchange, this.upstream, decision.body);
  }

  private proxyRequest(req: IncomingMessage, res: ServerResponse, exchange: Exchange, upstream: Upstream, body: Buffer | undefined): void {
    req.url = exchange.classified!.target.forwarded;
    // What the client's connection carried stays with it; the request body is re-framed by node.
    const chunked = req.headers['transfer-encoding'] !== undefined;
    stripHopByHop(req.headers);
    if (chunked) req.headers['transfer-encoding'] = 'chunked';
    stripClientCredentials(req.headers, upstream.plan);
    delete req.headers.expect; // node already answered 100-continue to the client
    if (this.ctx.masking) delete req.headers['accept-encoding']; // masking reads the body: ask for it uncompressed
    if (exchange.reviewId) res.setHeader('airlock-review', String(exchange.reviewId));
    this.proxy.web(
      req,
      res,
      {
        target: { protocol: upstream.protocol, host: upstream.host, port: upstream.port } as never,
        agent: upstream.agent,
        changeOrigin: true,
        selfHandleResponse: true,
        headers: upstream.credentialHeaders,
        ...(body ? { buffer: Readable.from([body]) as never } : {}),
      },
      (err) => this.onProxyError(err as NodeJS.ErrnoException, req, res),
    );
  }

  private onProxyReq(proxyReq: http.ClientRequest, res: ServerResponse): void {
    this.inflight.add(proxyReq);
    proxyReq.once('close', () => this.inflight.delete(proxyReq));
    // A client that goes away mid-response frees the request to the target at once (http-proxy only
    // does so while the request body is still arriving).
    res.once('close', () => {
      if (!res.writableFinished) proxyReq.destroy();
    });
    const socket = proxyReq.socket;
    if (socket && (socket as { connecting?: boolean }).connecting) {
      const ms = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
      const timer = setTimeout(() => proxyReq.destroy(Object.assign(new Error(`no connection within ${ms / 1000} s`), { code: 'ETIMEDOUT' })), ms);
      socket.once('connect', () => clearTimeout(timer));
      socket.once('close', () => clearTimeout(timer));
    }
  }

  private onProxyRes(proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse): void {
    const exchange = this.exchanges.get(req)!;
    exchange.relaying = true;
    void relayResponse(proxyRes, res, { masking: this.ctx.masking, method: req.method ?? 'GET' }).then((outcome: ResponseOutcome) => this.record(exchange, outcome));
  }

  private onProxyError(err: NodeJS.ErrnoException, req: IncomingMessage, res: ServerResponse): void {
    const exchange = this.exchanges.get(req)!;
    // Once the response is being relayed, the relay records how it ended.
    if (exchange.relaying) return void res.destroy();
    // node aborts the request ('aborted') and ends the socket when the client ends its connection.
    if (res.destroyed || req.socket.destroyed || req.socket.writableEnded || err.message === 'aborted') {
      res.destroy();
      return this.clientGone(req);
    }
    this.refuse(res, exchange, this.targetProblem(err));
  }

  private clientGone(req: IncomingMessage): void {
    const exchange = this.exchanges.get(req);
    if (exchange && !exchange.relaying) this.record(exchange, { status: 0, bytes: 0, error: 'the client went away before the target answered' });
  }

  private targetProblem(err: NodeJS.ErrnoException): Problem {
    const { name } = this.ctx.target;
    const address = this.upstream?.address ?? `${this.ctx.target.host}:${this.ctx.target.port}`;
    const untrusted = typeof err.code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(err.code);
    const reason = untrusted
      ? `airlock: the TLS certificate of target "${name}" at ${address} is not trusted: ${err.message} (give the connection its CA with --option ca=file:/path)`
      : `airlock: cannot reach target "${name}" at ${address}: ${err.message}`;
    return { status: 502, error: 'target_unreachable', reason, target: name };
  }

  private unusableTarget(): Problem {
    return { status: 502, error: 'bad_gateway', reason: this.upstreamProblem ?? 'airlock: the target is not usable', target: this.ctx.target.name };
  }

  private refuse(res: ServerResponse, exchange: Exchange, problem: Problem): void {
    const answer = this.dialect.answer(problem, exchange.classified as C | undefined);
    const body = Buffer.from(answer.body);
    res.statusCode = problem.status;
    res.setHeader('content-type', answer.contentType);
    res.setHeader('content-length', body.length);
    if (problem.reviewId) res.setHeader('airlock-review', String(problem.reviewId));
    // A request body nobody read would be taken for the next request: close instead.
    if (!exchange.classified || problem.status === 413) res.setHeader('connection', 'close');
    res.end(body);
    this.record(exchange, { status: problem.status, bytes: body.length, error: problem.reason });
  }

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const exchange = this.begin(req);
    socket.on('error', () => undefined);
    const decision = await this.decide(req, exchange, socket, false);
    if (socket.destroyed) return this.record(exchange, { status: 0, bytes: 0, error: 'the client went away before the request was sent' });
    if (!decision.proceed) return this.refuseRaw(socket, decision.problem, exchange);
    if (!this.upstream) return this.refuseRaw(socket, this.unusableTarget(), exchange);
    const upstream = this.upstream;
    const headers = { ...req.headers };
    stripHopByHop(headers, true);
    stripClientCredentials(headers, upstream.plan);
    const outcome = await relayUpgrade({
      client: socket,
      head,
      method: req.method ?? 'GET',
      path: exchange.classified!.target.forwarded,
      headers: { ...headers, ...upstream.credentialHeaders, host: hostHeader(upstream) },
      upstream,
      track: (item) => {
        this.inflight.add(item);
        return () => this.inflight.delete(item);
      },
      reviewId: exchange.reviewId,
      onError: (err) => this.dialect.answer(this.targetProblem(err), exchange.classified as C),
    });
    this.record(exchange, outcome);
  }

  /** Judges the request (see request-decision.ts) and notes what the record needs. */
  private async decide(req: IncomingMessage, exchange: Exchange, client: NodeJS.EventEmitter, mayHaveBody: boolean): Promise<Decision> {
    const decision = await decideRequest(this.ctx, this.dialect, {
      req,
      client,
      mayHaveBody,
      maxBodyBytes: this.options.maxReviewBodyBytes ?? DEFAULT_MAX_REVIEW_BODY,
      onClassified: (classified) => {
        exchange.classified = classified;
        exchange.text = classified.request.text;
      },
    });
    exchange.verdict = decision.verdict;
    if (decision.reviewId) exchange.reviewId = decision.reviewId;
    return decision;
  }

  /** A refusal on a connection that is no longer (or never was) served by the http.Server. */
  private refuseRaw(socket: Duplex, problem: Problem, exchange?: Exchange): void {
    const answer = this.dialect.answer(problem, exchange?.classified as C | undefined);
    const body = Buffer.from(answer.body);
    const head = [
      `HTTP/1.1 ${problem.status} ${STATUS_TEXT[problem.status] ?? 'Error'}`,
      `content-type: ${answer.contentType}`,
      `content-length: ${body.length}`,
      ...(problem.reviewId ? [`airlock-review: ${problem.reviewId}`] : []),
      'connection: close',
      '',
      '',
    ].join('\r\n');
    socket.end(Buffer.concat([Buffer.from(head), body]));
    if (exchange) this.record(exchange, { status: problem.status, bytes: body.length, error: problem.reason });
  }

  private record(exchange: Exchange, outcome: ResponseOutcome): void {
    if (exchange.recorded) return;
    exchange.recorded = true;
    this.unrecorded.delete(exchange);
    if (this.unrecorded.size === 0) queueMicrotask(() => this.onAllRecorded?.());
    this.ctx.recorder.record({
      sequence: exchange.sequence,
      text: exchange.text,
      startedAt: exchange.startedAt,
      durationUs: Number((process.hrtime.bigint() - exchange.startNs) / 1000n),
      rows: outcome.bytes,
      commandTag: outcome.status ? String(outcome.status) : '',
      errorSqlstate: '',
      errorMessage: outcome.error ?? '',
      protocol: this.dialect.protocol,
      ...(exchange.verdict ? { verdict: exchange.verdict } : {}),
      ...(exchange.reviewId ? { reviewId: exchange.reviewId } : {}),
    });
  }
}

function hostHeader(upstream: Upstream): string {
  const standard = (upstream.protocol === 'https:' && upstream.port === 443) || (upstream.protocol === 'http:' && upstream.port === 80);
  const host = upstream.host.includes(':') ? `[${upstream.host}]` : upstream.host;
  return standard ? host : `${host}:${upstream.port}`;
}
