import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length } from 'class-validator';

/** `POST /v1/auth/oidc`: the ID token the CLI got from the issuer. */
export class OidcLoginDto {
  @ApiProperty({ description: 'The ID token from the identity provider (device flow or authorization code + PKCE)' })
  @IsString({ message: 'idToken must be the ID token from the identity provider' })
  @Length(1, 8192, { message: 'idToken must be the ID token from the identity provider' })
  idToken!: string;

  @ApiPropertyOptional({ description: 'The nonce the CLI sent with the authorization request; the ID token must carry it' })
  @IsOptional()
  @IsString({ message: 'nonce must be a string' })
  @Length(1, 512, { message: 'nonce must be 1 to 512 characters' })
  nonce?: string;

  @ApiPropertyOptional({ enum: ['device', 'pkce'], description: 'How the CLI got the token (recorded with the login)' })
  @IsOptional()
  @IsIn(['device', 'pkce'], { message: 'flow must be device or pkce' })
  flow?: 'device' | 'pkce';
}

/** `POST /v1/auth/refresh` and `POST /v1/auth/logout`. */
export class RefreshTokenDto {
  @ApiProperty({ example: 'alk_refresh_…' })
  @IsString({ message: 'refreshToken is required' })
  @Length(1, 512, { message: 'refreshToken must be a refresh token from a login' })
  refreshToken!: string;
}
