import type { Command } from 'commander';
import { ApiClient, ApiError, CliError, ControlPlaneUnreachableError, type Grant } from '../lib/api.js';
import { addJsonOption, emit, humanTimestamp, printJson, type JsonOption } from '../lib/output.js';
import { StatusLine } from '../lib/status-line.js';
import { formatSeconds, parseDurationSeconds, type Review } from './reviews.js';

export const POLL_INTERVAL_MS = 1000;
/** How long past a review's expiry we keep asking, for the control plane's once-a-second sweep and clock skew. */
const EXPIRY_GRACE_MS = 30_000;

interface RequestOptions extends JsonOption {
  for: number;
  reason: string;
  wait: boolean;
}

export function registerRequest(program: Command): void {
  addJsonOption(
    program
      .command('request')
      .argument('<connection>', 'the connection you need access to')
      .description('ask for just-in-time access to a connection, and wait until reviewers decide (Ctrl-C withdraws the request)')
      .requiredOption('--for <duration>', 'how long the access should last once approved (e.g. 30m, 1h)', parseDurationSeconds)
      .requiredOption('--reason <text>', 'why you need it, for the reviewers')
      .option('--no-wait', 'create the request and return without waiting for a decision'),
  ).action(async (connection: string, options: RequestOptions) => {
    const api = ApiClient.forCurrentProfile();
    const review = await api.request<Review>('POST', '/v1/access-requests', { connection, forSeconds: options.for, reason: options.reason });
    if (!options.wait) {
      emit(options, review, (r) => `access review ${r.id} created: it needs ${r.approvalsRequired} approval${r.approvalsRequired === 1 ? '' : 's'} from ${r.reviewers.join(', ')} (airlock reviews show ${r.id})`);
      return;
    }
    const decided = await waitForDecision(api, review, new StatusLine(process.stderr));
    if (decided.state === 'approved') {
      const grant = (await api.listGrants(true)).find((g) => g.reviewId === decided.id);
      if (!grant) throw new CliError(`access review ${decided.id} was approved, but no grant for it is in force; airlock grants list --all shows why`);
      emit(options, grant, (g: Grant) => `access to ${g.connection} granted until ${humanTimestamp(g.expiresAt)}`);
      return;
    }
    if (options.json) printJson(decided);
    throw new CliError(`access to ${decided.connection} was not granted: ${outcome(decided)}`);
  });
}

/**
 * Polls the review once a second until people decide, showing the tally on the status line. Ctrl-C
 * withdraws the request. Ends at the latest shortly after the review's own expiry.
 */
async function waitForDecision(api: ApiClient, review: Review, status: StatusLine): Promise<Review> {
  let current = review;
  let interrupted = false;
  let wake = () => {};
  const onInterrupt = () => {
    interrupted = true;
    wake();
  };
  process.on('SIGINT', onInterrupt);
  try {
    while (current.state === 'pending' && !interrupted) {
      status.show(`waiting for approval of access review ${review.id}: ${current.approvals} of ${current.approvalsRequired} approvals, asked: ${current.reviewers.join(', ')}`);
      if (Date.now() > Date.parse(current.expiresAt) + EXPIRY_GRACE_MS) {
        throw new CliError(`access review ${review.id} expired at ${current.expiresAt} without a decision`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, POLL_INTERVAL_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (interrupted) break;
      try {
        current = await api.request<Review>('GET', `/v1/reviews/${review.id}`);
      } catch (error) {
        if (!(error instanceof ControlPlaneUnreachableError)) throw error;
        status.show(`waiting for approval of access review ${review.id}: the control plane is unreachable, retrying`);
      }
    }
  } finally {
    process.off('SIGINT', onInterrupt);
    status.done();
  }
  if (interrupted) await withdraw(api, review.id);
  return current;
}

async function withdraw(api: ApiClient, id: number): Promise<never> {
  try {
    await api.request<Review>('POST', `/v1/reviews/${id}/cancel`);
  } catch (error) {
    // Decided meanwhile (e.g. approved as Ctrl-C was pressed): say what happened instead.
    if (error instanceof ApiError && error.status === 409) throw new CliError(`interrupted, but access review ${id} could not be withdrawn: ${error.message}`);
    throw error;
  }
  throw new CliError(`cancelled: access review ${id} was withdrawn`);
}

function outcome(review: Review): string {
  const why = review.stateReason ? `: ${review.stateReason}` : '';
  switch (review.state) {
    case 'rejected': {
      const by = (review.decisions ?? []).filter((d) => d.decision === 'reject').map((d) => d.reviewer);
      return `review ${review.id} was rejected${by.length ? ` by ${by.join(', ')}` : ''}${why}`;
    }
    case 'expired':
      return `review ${review.id} expired${why}`;
    case 'cancelled':
      return `review ${review.id} was cancelled${why}`;
    default:
      return `review ${review.id} is ${review.state}${why}`;
  }
}

/** For `airlock grants`: `30m` for a grant of 1800 seconds. */
export function grantLength(grant: Grant): string {
  return formatSeconds(Math.round((Date.parse(grant.expiresAt) - Date.parse(grant.startsAt)) / 1000));
}
