import { Body, Controller, Get, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { CLOCK, type Clock } from '../common/clock.js';
import { CONFIG } from '../common/config.token.js';
import type { ControlPlaneConfig } from '../config/config.js';
import { AuthSettingsView, LoginView, toLoginView } from './auth.views.js';
import { BearerAuthenticator } from './bearer-authenticator.js';
import { sourceOf } from './bearer-auth.guard.js';
import { OidcLoginDto, RefreshTokenDto } from './dto/auth.dto.js';
import { LoginSessions } from './login-sessions/login-sessions.js';
import { OidcLoginService } from './oidc/oidc-login.service.js';
import { Public } from './principal.js';
import { AuthRateLimiter } from './rate-limit/auth-rate-limiter.js';

type SourceRequest = Parameters<typeof sourceOf>[0];

/**
 * Logging in: these routes are public (they *are* the way to get a credential) and limited per
 * source address; refused tokens are audited like any other refused credential.
 */
@ApiTags('auth')
@Public()
@ApiTooManyRequestsResponse({ description: 'Too many login calls or failed attempts from this address; see Retry-After' })
@Controller('v1/auth')
export class AuthController {
  constructor(
    private readonly oidc: OidcLoginService,
    private readonly logins: LoginSessions,
    private readonly authenticator: BearerAuthenticator,
    private readonly limiter: AuthRateLimiter,
    @Inject(CONFIG) private readonly config: ControlPlaneConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get('config')
  @ApiOkResponse({ type: AuthSettingsView, description: 'How to log in to this control plane' })
  settings(): AuthSettingsView {
    const oidc = this.config.identity.oidc;
    return {
      oidc: oidc ? { issuer: oidc.issuer, clientId: oidc.clientId, scopes: [...oidc.scopes] } : null,
      sessionTokenTtlSeconds: this.config.identity.sessionTokenTtlSeconds,
      devMode: this.config.identity.devMode,
    };
  }

  @Post('oidc')
  @HttpCode(200)
  @ApiOkResponse({ type: LoginView, description: 'The ID token was verified: a session token and a refresh token' })
  async loginWithIdToken(@Body() body: OidcLoginDto, @Req() request: SourceRequest): Promise<LoginView> {
    const source = sourceOf(request);
    await this.limiter.admitLoginCall(source);
    const login = await this.authenticator.guarded(source, undefined, () => this.oidc.login(body.idToken, { nonce: body.nonce, flow: body.flow, source }));
    return toLoginView(login, this.clock.now());
  }

  @Post('refresh')
  @HttpCode(200)
  @ApiOkResponse({ type: LoginView, description: 'A new session token and the next refresh token (the one sent is used up)' })
  async refresh(@Body() body: RefreshTokenDto, @Req() request: SourceRequest): Promise<LoginView> {
    const source = sourceOf(request);
    await this.limiter.admitLoginCall(source);
    const login = await this.authenticator.guarded(source, body.refreshToken, () => this.logins.refresh(body.refreshToken));
    return toLoginView(login, this.clock.now());
  }

  @Post('logout')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'The login is ended: its refresh token and session tokens stop working' })
  async logout(@Body() body: RefreshTokenDto, @Req() request: SourceRequest): Promise<void> {
    const source = sourceOf(request);
    await this.limiter.admitLoginCall(source);
    await this.authenticator.guarded(source, body.refreshToken, () => this.logins.logout(body.refreshToken));
  }
}
