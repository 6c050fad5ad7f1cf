import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgentsModule } from '../agents/agents.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { AuditService } from '../audit/audit.service.js';
import { PoliciesModule } from '../policies/policies.module.js';
import { PolicyReviewSettings } from '../policies/policy-review-settings.js';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { WebhookNotifier } from '../notifications/webhook-notifier.js';
import { ConnectionsModule } from '../connections/connections.module.js';
import { GrantsModule } from '../grants/grants.module.js';
import { GrantReviewListener } from '../grants/grant-review.listener.js';
import { AccessRequestsController } from './access-requests.controller.js';
import { REVIEW_AUDIT, type ReviewAudit } from './review-audit.js';
import { REVIEW_SETTINGS_SOURCE } from './review-settings.js';
import { REVIEW_LISTENERS, type ReviewListener } from './review-listener.js';
import { ReviewDecisionEntity, ReviewEntity, StatementApprovalEntity } from './review.entity.js';
import { ReviewsController } from './reviews.controller.js';
import { ReviewsRepository } from './reviews.repository.js';
import { ReviewsService } from './reviews.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([ReviewEntity, ReviewDecisionEntity, StatementApprovalEntity]), AgentsModule, AuditModule, PoliciesModule, NotificationsModule, ConnectionsModule, GrantsModule],
  controllers: [ReviewsController, AccessRequestsController],
  providers: [
    ReviewsRepository,
    ReviewsService,
    { provide: REVIEW_SETTINGS_SOURCE, useExisting: PolicyReviewSettings },
    // Told in this order after every change; grants add themselves to `inject`.
    { provide: REVIEW_LISTENERS, inject: [WebhookNotifier, GrantReviewListener], useFactory: (...listeners: ReviewListener[]): ReviewListener[] => listeners },
    {
      provide: REVIEW_AUDIT,
      inject: [AuditService],
      useFactory: (audit: AuditService): ReviewAudit => ({
        record: (actor, kind, reviewId, details) => audit.record({ actor, kind, target: `review/${reviewId}`, details }),
      }),
    },
  ],
  exports: [ReviewsService],
})
export class ReviewsModule {}
