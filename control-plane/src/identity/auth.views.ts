import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ROLES } from './roles.js';
import type { IssuedLogin } from './login-sessions/login-sessions.js';

export class OidcSettingsView {
  @ApiProperty({ example: 'https://idp.example.com' }) issuer!: string;
  @ApiProperty({ example: 'airlock-cli' }) clientId!: string;
  @ApiProperty({ type: [String], example: ['openid', 'email', 'profile', 'groups'] }) scopes!: string[];
}

export class AuthSettingsView {
  @ApiPropertyOptional({ type: OidcSettingsView, nullable: true, description: 'null when people log in with tokens only' })
  oidc!: OidcSettingsView | null;
  @ApiProperty({ description: 'Lifetime of a session token; the CLI refreshes before it ends' }) sessionTokenTtlSeconds!: number;
  @ApiProperty({ description: 'True for `airlock dev`: a local admin, no identity provider' }) devMode!: boolean;
}

export class LoginUserView {
  @ApiProperty({ example: 'user:alice@example.com' }) subject!: string;
  @ApiProperty({ enum: ROLES }) role!: string;
  @ApiProperty({ type: [String] }) groups!: string[];
}

export class LoginView {
  @ApiProperty({ description: 'The session token (EdDSA JWT): send as "Authorization: Bearer …"' }) accessToken!: string;
  @ApiProperty({ example: 'Bearer' }) tokenType!: 'Bearer';
  @ApiProperty({ type: String, format: 'date-time' }) expiresAt!: string;
  @ApiProperty({ description: 'Seconds until the session token expires' }) expiresIn!: number;
  @ApiProperty({ description: 'Trade it once for the next session token at POST /v1/auth/refresh; shown only this once', example: 'alk_refresh_…' })
  refreshToken!: string;
  @ApiProperty({ type: String, format: 'date-time', description: 'The login ends then: log in again' }) refreshExpiresAt!: string;
  @ApiProperty({ type: LoginUserView }) user!: LoginUserView;
}

export function toLoginView(login: IssuedLogin, now: Date): LoginView {
  return {
    accessToken: login.accessToken,
    tokenType: 'Bearer',
    expiresAt: login.accessTokenExpiresAt.toISOString(),
    expiresIn: Math.max(0, Math.ceil((login.accessTokenExpiresAt.getTime() - now.getTime()) / 1000)),
    refreshToken: login.refreshToken,
    refreshExpiresAt: login.refreshTokenExpiresAt.toISOString(),
    user: { subject: `user:${login.user.name}`, role: login.user.role, groups: login.user.groups },
  };
}
