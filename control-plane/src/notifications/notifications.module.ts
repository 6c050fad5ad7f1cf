import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ReviewDecisionEntity } from '../reviews/review.entity.js';
import { WebhookDeliveryEntity } from './webhook-delivery.entity.js';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository.js';
import { DEFAULT_WEBHOOK_DELIVERY_OPTIONS, WEBHOOK_DELIVERY_OPTIONS, WebhookDispatcher } from './webhook-dispatcher.js';
import { WebhookNotifier } from './webhook-notifier.js';

/** Review webhooks: a persisted outbox filled by a review listener and drained in order by one dispatcher. */
@Module({
  imports: [TypeOrmModule.forFeature([WebhookDeliveryEntity, ReviewDecisionEntity])],
  providers: [
    WebhookDeliveriesRepository,
    WebhookDispatcher,
    WebhookNotifier,
    { provide: WEBHOOK_DELIVERY_OPTIONS, useValue: DEFAULT_WEBHOOK_DELIVERY_OPTIONS },
  ],
  exports: [WebhookNotifier],
})
export class NotificationsModule {}
