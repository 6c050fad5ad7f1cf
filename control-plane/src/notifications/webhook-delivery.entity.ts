import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const WEBHOOK_EVENT_TYPES = ['review.created', 'review.approved', 'review.rejected', 'review.expired', 'review.cancelled'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** pending → delivered | failed (gave up after the last attempt). */
export type WebhookDeliveryState = 'pending' | 'delivered' | 'failed';

/**
 * One webhook in the outbox. Rows are written when the event happens and sent strictly in `seq`
 * order, so a restart loses nothing and a receiver sees events in the order they happened.
 */
@Entity({ name: 'webhook_deliveries' })
export class WebhookDeliveryEntity {
  /** Queue order. bigint: pg returns it as a string. */
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  seq!: string;

  /** The delivery id receivers see (body `id`, X-Airlock-Delivery): the same on every retry, so they can deduplicate. */
  @Column({ type: 'uuid', unique: true })
  id!: string;

  @Column({ name: 'event_type', type: 'text' })
  eventType!: WebhookEventType;

  @Column({ name: 'review_id', type: 'integer' })
  reviewId!: number;

  /** The exact JSON body, fixed at enqueue time: every retry sends the same bytes. */
  @Column({ type: 'text' })
  body!: string;

  @Column({ type: 'text' })
  state!: WebhookDeliveryState;

  @Column({ type: 'integer' })
  attempts!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** The head of the queue is not sent before this (backoff after a failed attempt). */
  @Column({ name: 'next_attempt_at', type: 'timestamptz' })
  nextAttemptAt!: Date;

  /** When it was delivered or given up on. */
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
