import { InvalidArgumentError, type Command } from 'commander';
import { ApiClient } from '../lib/api.js';
import { addJsonOption, emit, humanAge, NONE, renderDetails, renderTable, type JsonOption } from '../lib/output.js';

/** A review as the control plane sends it. */
export interface Review {
  id: number;
  /** `access` reviews ask for just-in-time access (no session, no statement); absent from older control planes. */
  kind?: 'statement' | 'access';
  state: string;
  connection: string;
  sessionId: string | null;
  /** Access reviews: how long the grant lasts once approved. */
  accessSeconds?: number | null;
  requester: string;
  statement: string;
  kinds: string[];
  tables: string[];
  policy: string;
  policyVersion: number;
  reason: string;
  reviewers: string[];
  approvals: number;
  approvalsRequired: number;
  stateReason: string | null;
  createdAt: string;
  expiresAt: string;
  decidedAt: string | null;
  decisions?: { reviewer: string; decision: string; comment: string | null; forSeconds: number | null; at: string }[];
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `90s`, `15m`, `1h`, `2d` → seconds. */
export function parseDurationSeconds(value: string): number {
  const match = /^(\d+)([smhd])$/.exec(value.trim());
  if (!match || Number(match[1]) < 1) throw new InvalidArgumentError('Expected a duration such as 90s, 15m, 1h or 2d.');
  return Number(match[1]) * UNITS[match[2]!]!;
}

interface ListOptions extends JsonOption {
  pending?: boolean;
  limit?: number;
}

export function registerReviews(program: Command): void {
  const reviews = program.command('reviews').description('reviews: statements held until people approve them');

  addJsonOption(
    reviews.command('list').description('list reviews, newest first').option('--pending', 'only reviews waiting for a decision'),
  ).action(async (options: ListOptions) => {
    const query = options.pending ? '?state=pending' : '';
    const { reviews: list } = await ApiClient.forCurrentProfile().request<{ reviews: Review[] }>('GET', `/v1/reviews${query}`);
    emit(options, list, renderReviews);
  });

  addJsonOption(reviews.command('show').argument('<id>', 'review id').description('show a review, its statement and its decisions')).action(
    async (id: string, options: JsonOption) => {
      const review = await ApiClient.forCurrentProfile().request<Review>('GET', `/v1/reviews/${encodeURIComponent(id)}`);
      emit(options, review, renderReview);
    },
  );

  addJsonOption(
    reviews
      .command('approve')
      .argument('<id>', 'review id')
      .description('approve a held statement (it runs once enough reviewers approved)')
      .option('--for <duration>', 'also let the identical statement by the same person pass for this long (e.g. 1h)', parseDurationSeconds)
      .option('--comment <text>', 'why you approve'),
  ).action(async (id: string, options: JsonOption & { for?: number; comment?: string }) => {
    const body = { ...(options.for ? { forSeconds: options.for } : {}), ...(options.comment ? { comment: options.comment } : {}) };
    const review = await ApiClient.forCurrentProfile().request<Review>('POST', `/v1/reviews/${encodeURIComponent(id)}/approve`, body);
    emit(options, review, (r) => `review ${r.id}: ${r.state} (${r.approvals} of ${r.approvalsRequired} approvals)`);
  });

  addJsonOption(
    reviews
      .command('reject')
      .argument('<id>', 'review id')
      .description('reject a held statement; the requester sees your reason')
      .requiredOption('--reason <text>', 'why, in words the requester can act on'),
  ).action(async (id: string, options: JsonOption & { reason: string }) => {
    const review = await ApiClient.forCurrentProfile().request<Review>('POST', `/v1/reviews/${encodeURIComponent(id)}/reject`, { reason: options.reason });
    emit(options, review, (r) => `review ${r.id}: ${r.state}`);
  });
}

/** How an access review reads where a statement would: `access for 30m: INC-42 stuck refunds`. */
export function accessSummary(r: Pick<Review, 'accessSeconds' | 'reason'>): string {
  return `access for ${formatSeconds(r.accessSeconds ?? 0)}: ${r.reason}`;
}

/** 5400 → 1h30m (the control plane's own format). */
export function formatSeconds(seconds: number): string {
  let rest = seconds;
  let out = '';
  for (const [unit, size] of Object.entries(UNITS).reverse()) {
    const amount = Math.floor(rest / size);
    rest -= amount * size;
    if (amount > 0) out += `${amount}${unit}`;
  }
  return out || '0s';
}

function renderReviews(list: Review[]): string {
  if (list.length === 0) return 'No reviews.';
  return renderTable(list, [
    { header: 'ID', value: (r) => String(r.id) },
    { header: 'STATE', value: (r) => r.state },
    { header: 'CONNECTION', value: (r) => r.connection },
    { header: 'REQUESTER', value: (r) => r.requester },
    { header: 'APPROVALS', value: (r) => `${r.approvals}/${r.approvalsRequired}` },
    { header: 'AGE', value: (r) => humanAge(r.createdAt) },
    { header: 'STATEMENT', value: (r) => (r.kind === 'access' ? accessSummary(r) : r.statement), flex: true },
  ]);
}

function renderReview(r: Review): string {
  const details = renderDetails([
    ['Review', String(r.id)],
    ['State', r.stateReason ? `${r.state}: ${r.stateReason}` : r.state],
    ['Connection', r.connection],
    ['Requester', r.requester],
    ['Policy', `${r.policy} (version ${r.policyVersion})`],
    ['Why', r.kind === 'access' ? undefined : r.reason],
    ['Touches', [...r.kinds, ...r.tables].join(', ') || NONE],
    ['Reviewers', r.reviewers.join(', ')],
    ['Approvals', `${r.approvals} of ${r.approvalsRequired}`],
    ['Expires', r.state === 'pending' ? r.expiresAt : undefined],
  ]);
  const decisions = (r.decisions ?? []).map((d) => `  ${d.decision === 'approve' ? 'approved' : 'rejected'} by ${d.reviewer}${d.forSeconds ? ` for ${d.forSeconds}s` : ''}${d.comment ? `: ${d.comment}` : ''}`);
  return `${details}\n\n${r.kind === 'access' ? accessSummary(r) : r.statement}${decisions.length ? `\n\nDecisions:\n${decisions.join('\n')}` : ''}`;
}
