import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiTokenEntity } from './api-token.entity.js';
import { ApiTokensRepository } from './api-tokens.repository.js';
import { BearerAuthGuard } from './bearer-auth.guard.js';
import { IdentityController } from './identity.controller.js';
import { IdentityService } from './identity.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([ApiTokenEntity])],
  controllers: [IdentityController],
  providers: [ApiTokensRepository, IdentityService, { provide: APP_GUARD, useClass: BearerAuthGuard }],
  exports: [IdentityService],
})
export class IdentityModule {}
