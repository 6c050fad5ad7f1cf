import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgentsModule } from '../agents/agents.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { PoliciesModule } from '../policies/policies.module.js';
import { GrantEntity } from './grant.entity.js';
import { GrantReviewListener } from './grant-review.listener.js';
import { GrantsController } from './grants.controller.js';
import { GrantsRepository } from './grants.repository.js';
import { GrantsService } from './grants.service.js';

/** Just-in-time grants. ReviewsModule imports it for the listener; the gateway for the session check. */
@Module({
  imports: [TypeOrmModule.forFeature([GrantEntity]), AgentsModule, AuditModule, PoliciesModule],
  controllers: [GrantsController],
  providers: [GrantsRepository, GrantsService, GrantReviewListener],
  exports: [GrantsService, GrantReviewListener],
})
export class GrantsModule {}
