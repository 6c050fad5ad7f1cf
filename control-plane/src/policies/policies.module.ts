import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { Transactions } from '../database/transactions.js';
import { PoliciesController } from './policies.controller.js';
import { PoliciesRepository } from './policies.repository.js';
import { PoliciesService } from './policies.service.js';
import { PolicyVersionEntity } from './policy-version.entity.js';
import { PolicyEntity } from './policy.entity.js';
import { PolicyReviewSettings } from './policy-review-settings.js';

@Module({
  imports: [TypeOrmModule.forFeature([PolicyEntity, PolicyVersionEntity]), AuditModule],
  controllers: [PoliciesController],
  providers: [PoliciesRepository, PoliciesService, Transactions, PolicyReviewSettings],
  exports: [PoliciesService, PolicyReviewSettings],
})
export class PoliciesModule {}
