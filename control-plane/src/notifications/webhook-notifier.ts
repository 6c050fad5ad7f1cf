import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../common/clock.js';
import { CONFIG } from '../common/config.token.js';
import type { ControlPlaneConfig } from '../config/config.js';
import type { ReviewEntity } from '../reviews/review.entity.js';
import type { ReviewListener } from '../reviews/review-listener.js';
import type { WebhookEventType } from './webhook-delivery.entity.js';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { webhookPayload } from './webhook-payload.js';

/**
 * Puts every review event in the webhook outbox, in the order the reviews service reports them, and
 * wakes the dispatcher. Without AIRLOCK_WEBHOOK_URL nothing is recorded.
 */
@Injectable()
export class WebhookNotifier implements ReviewListener {
  private readonly enabled: boolean;

  constructor(
    @Inject(CONFIG) config: ControlPlaneConfig,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly dispatcher: WebhookDispatcher,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.enabled = config.webhook !== undefined;
  }

  async onReviewChanged(review: ReviewEntity, event: Parameters<ReviewListener['onReviewChanged']>[1]): Promise<void> {
    if (!this.enabled) return;
    const id = randomUUID();
    const type: WebhookEventType = `review.${event}`;
    const occurredAt = event === 'created' ? review.createdAt : (review.decidedAt ?? this.clock.now());
    const approvals = event === 'created' ? 0 : await this.deliveries.approvalsOf(review.id);
    const body = JSON.stringify(webhookPayload(id, type, occurredAt, review, approvals));
    await this.deliveries.enqueue({ id, eventType: type, reviewId: review.id, body, createdAt: this.clock.now() });
    this.dispatcher.kick();
  }
}
