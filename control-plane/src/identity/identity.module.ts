import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { Transactions } from '../database/transactions.js';
import { AdminOnlyGuard } from './admin-only.guard.js';
import { ApiTokenEntity } from './api-token.entity.js';
import { ApiTokensRepository } from './api-tokens.repository.js';
import { BearerAuthGuard } from './bearer-auth.guard.js';
import { IdentityController } from './identity.controller.js';
import { IdentityService } from './identity.service.js';
import { UserEntity } from './user.entity.js';
import { UsersController } from './users.controller.js';
import { UsersRepository } from './users.repository.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([ApiTokenEntity, UserEntity]), AuditModule],
  controllers: [IdentityController, UsersController],
  providers: [
    ApiTokensRepository,
    UsersRepository,
    IdentityService,
    UsersService,
    Transactions,
    // Global guards run in this order: authenticate first, then check the role.
    { provide: APP_GUARD, useClass: BearerAuthGuard },
    { provide: APP_GUARD, useClass: AdminOnlyGuard },
  ],
  exports: [IdentityService, UsersService],
})
export class IdentityModule {}
