/**
 * What happens to one request before it may reach the target: it is read as the dialect reads it
 * (refused with 400 when it cannot be read one way only), screened, judged by the session's policy,
 * and, when policy wants a review, held: a held request's body is read whole (reviewers see it, and
 * the approval covers exactly it), and the hold is withdrawn when the client goes away.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { HoldOutcome, HoldRequest, SessionContext, StatementGate, StatementRecord } from '../engine.js';
import type { Problem } from './answers.js';
import type { Classified, HttpDialect } from './dialect.js';

export const DEFAULT_MAX_REVIEW_BODY = 1024 * 1024;
/** How much of a held request's body reviewers see in the review. */
const REVIEW_BODY_PREVIEW = 4096;

export type RecordedVerdict = NonNullable<StatementRecord['verdict']>;

export type Decision =
  | { proceed: true; verdict?: RecordedVerdict; reviewId?: number; body?: Buffer }
  | { proceed: false; problem: Problem; verdict: RecordedVerdict; reviewId?: number };

export interface DecisionInput<C> {
  req: IncomingMessage;
  client: NodeJS.EventEmitter;
  /** False for upgrades: their request has no body to read. */
  mayHaveBody: boolean;
  /** The largest body a held request may have. */
  maxBodyBytes: number;
  onClassified(classified: C): void;
}

/**
 * Reads, screens and judges one request; holds it when policy wants a review. `client` closes when
 * the client goes away (the response, or the upgraded socket): a hold is then withdrawn.
 */
export async function decideRequest<C extends Classified>(ctx: SessionContext, dialect: HttpDialect<C>, input: DecisionInput<C>): Promise<Decision> {
  const { req } = input;
  let classified: C;
  try {
    classified = dialect.classify(req.method ?? 'GET', req.url ?? '/');
  } catch (err) {
    return { proceed: false, verdict: 'denied', problem: { status: 400, error: 'bad_request', reason: (err as Error).message } };
  }
  input.onClassified(classified);
  const screened = dialect.screen?.(req.headers, classified);
  if (screened) return { proceed: false, verdict: 'denied', problem: { status: 403, error: 'denied', reason: screened } };
  const gate = ctx.gate;
  if (!gate) return { proceed: true };
  const verdict = gate.judgeRequest(classified.request);
  if (verdict.action === 'allow') return { proceed: true, verdict: 'allowed' };
  if (verdict.action === 'deny') return { proceed: false, verdict: 'denied', problem: { status: 403, error: 'denied', reason: `airlock: ${verdict.reason}` } };
  return holdForReview(ctx, gate, verdict.hold, classified, input);
}

/** Holds a request until people decide; a fail-fast policy answers at once with the open review. */
async function holdForReview(ctx: SessionContext, gate: StatementGate, held: HoldRequest, classified: Classified, input: DecisionInput<unknown>): Promise<Decision> {
  const { req, client, mayHaveBody, maxBodyBytes } = input;
  let body: Buffer | undefined;
  if (mayHaveBody && hasBody(req)) {
    const read = await readBody(req, maxBodyBytes);
    if (read === 'gone') return { proceed: false, verdict: 'denied', problem: { status: 400, error: 'bad_request', reason: 'airlock: the request body did not arrive whole' } };
    if (read === 'too_large') {
      return { proceed: false, verdict: 'denied', problem: { status: 413, error: 'too_large', reason: `airlock: the request needs review and its body is larger than reviewers can be shown (${maxBodyBytes} bytes)` } };
    }
    body = read;
  }
  const hold = { ...held };
  if (body && body.length > 0) {
    // Reviewers approve what is sent: the body is in the review and in the fingerprint an approval covers.
    hold.statement = `${classified.request.text}\n\n${bodyPreview(body)}`;
    hold.fingerprint = createHash('sha256').update(`${classified.request.protocol}\u0000${classified.request.text}\u0000`).update(body).digest('hex');
  }
  if ((client as { destroyed?: boolean }).destroyed) return { proceed: false, verdict: 'rejected', problem: { status: 400, error: 'bad_request', reason: 'airlock: the client went away' } };
  const withdraw = new AbortController();
  const onGone = () => withdraw.abort();
  client.once('close', onGone);
  const signal = AbortSignal.any([withdraw.signal, ctx.signal]);
  const outcome: HoldOutcome = await gate
    .hold(hold, (message) => ctx.logger.info('request held', { request: classified.request.text, message }), signal)
    .finally(() => client.off('close', onGone));
  if (outcome.released) return { proceed: true, verdict: 'approved', reviewId: outcome.reviewId, ...(body ? { body } : {}) };
  if (outcome.pending) {
    const reason = `airlock: ${classified.request.method} ${classified.request.path} needs review ${outcome.reviewId}; send the identical request again once it is approved and it passes once — airlock reviews approve ${outcome.reviewId}`;
    return { proceed: false, verdict: 'rejected', reviewId: outcome.reviewId, problem: { status: 409, error: 'review_required', reason, reviewId: outcome.reviewId } };
  }
  return { proceed: false, verdict: 'rejected', ...(outcome.reviewId ? { reviewId: outcome.reviewId } : {}), problem: { status: 403, error: 'rejected', reason: outcome.message, ...(outcome.reviewId ? { reviewId: outcome.reviewId } : {}) } };
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Reads a body to hold it for review; stops (leaving the rest unread) once it is over the limit. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large' | 'gone'> {
  if (Number(req.headers['content-length'] ?? '0') > limit) return Promise.resolve('too_large');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: Buffer | 'too_large' | 'gone') => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('aborted', onGone);
      req.off('error', onGone);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.pause();
      finish('too_large');
    };
    const onEnd = () => finish(Buffer.concat(chunks));
    const onGone = () => finish('gone');
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('aborted', onGone);
    req.once('error', onGone);
  });
}

function bodyPreview(body: Buffer): string {
  const digest = createHash('sha256').update(body).digest('hex');
  const text = body.subarray(0, REVIEW_BODY_PREVIEW).toString('utf8');
  // eslint-disable-next-line no-control-regex
  const printable = !/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(text);
  if (!printable) return `(${body.length} bytes of binary body, sha256 ${digest})`;
  const cut = body.length > REVIEW_BODY_PREVIEW ? `\n… (${body.length} bytes in all, sha256 ${digest})` : '';
  return `${text}${cut}`;
}
