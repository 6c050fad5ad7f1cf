import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { Transactions } from '../database/transactions.js';
import { ApiTokenEntity } from './api-token.entity.js';
import { ApiTokensRepository } from './api-tokens.repository.js';
import { AuthController } from './auth.controller.js';
import { RoleGuard } from './authorization/role.guard.js';
import { BearerAuthGuard } from './bearer-auth.guard.js';
import { BearerAuthenticator } from './bearer-authenticator.js';
import { IdentityController } from './identity.controller.js';
import { IdentityService } from './identity.service.js';
import { LoginSessionEntity, RefreshTokenEntity } from './login-sessions/login-session.entity.js';
import { LoginSessions } from './login-sessions/login-sessions.js';
import { LoginSessionsRepository } from './login-sessions/login-sessions.repository.js';
import { OidcLoginService } from './oidc/oidc-login.service.js';
import { OidcTokenVerifier } from './oidc/oidc-token-verifier.js';
import { AuthRateLimiter } from './rate-limit/auth-rate-limiter.js';
import { ServiceAccountEntity } from './service-accounts/service-account.entity.js';
import { ServiceAccountsController } from './service-accounts/service-accounts.controller.js';
import { ServiceAccountsRepository } from './service-accounts/service-accounts.repository.js';
import { ServiceAccountsService } from './service-accounts/service-accounts.service.js';
import { SigningKeyEntity } from './session-tokens/signing-key.entity.js';
import { SigningKeys } from './session-tokens/signing-keys.js';
import { SessionTokens } from './session-tokens/session-tokens.js';
import { UserEntity } from './user.entity.js';
import { UsersController } from './users.controller.js';
import { UsersRepository } from './users.repository.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([ApiTokenEntity, UserEntity, SigningKeyEntity, LoginSessionEntity, RefreshTokenEntity, ServiceAccountEntity]), AuditModule],
  controllers: [IdentityController, UsersController, AuthController, ServiceAccountsController],
  providers: [
    ApiTokensRepository,
    UsersRepository,
    LoginSessionsRepository,
    ServiceAccountsRepository,
    IdentityService,
    UsersService,
    SigningKeys,
    SessionTokens,
    LoginSessions,
    OidcTokenVerifier,
    OidcLoginService,
    ServiceAccountsService,
    AuthRateLimiter,
    BearerAuthenticator,
    Transactions,
    // Global guards run in this order: authenticate first, then check the role.
    { provide: APP_GUARD, useClass: BearerAuthGuard },
    { provide: APP_GUARD, useClass: RoleGuard },
  ],
  exports: [IdentityService, UsersService, BearerAuthenticator, SigningKeys, SessionTokens, AuthRateLimiter, AuditModule],
})
export class IdentityModule {}
