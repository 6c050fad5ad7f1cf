import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsObject, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { NAME_PATTERN, NAME_RULE } from '../../common/names.js';
import { CONNECTION_TYPES, type ConnectionType, TLS_MODES, type TlsMode } from '../connection.entity.js';

/** `env:VAR` or `file:/absolute/path`: where the agent finds the secret, never the secret itself. */
export const SECRET_REF_PATTERN = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/\S*[^/\s])$/;

export class CreateConnectionDto {
  @ApiProperty({ example: 'pg-prod', pattern: NAME_PATTERN.source })
  @IsString({ message: 'name must be a string' })
  @Matches(NAME_PATTERN, { message: `name ${NAME_RULE}` })
  name!: string;

  @ApiProperty({ enum: CONNECTION_TYPES })
  @IsIn(CONNECTION_TYPES, { message: `type must be one of ${CONNECTION_TYPES.join(', ')}` })
  type!: ConnectionType;

  @ApiProperty({ description: 'Name of the agent that reaches the target', example: 'eu-west-db' })
  @IsString({ message: 'agent must be the name of an agent' })
  @Matches(NAME_PATTERN, { message: `agent ${NAME_RULE}` })
  agent!: string;

  @ApiProperty({ description: 'Target host, as the agent resolves it', example: 'db.internal' })
  @IsString({ message: 'host must be a string' })
  @Matches(/^[^\s/]{1,253}$/, { message: 'host must be a hostname or IP address (no spaces, slashes or scheme)' })
  host!: string;

  @ApiProperty({ minimum: 1, maximum: 65535, example: 5432 })
  @IsInt({ message: 'port must be an integer between 1 and 65535' })
  @Min(1, { message: 'port must be an integer between 1 and 65535' })
  @Max(65535, { message: 'port must be an integer between 1 and 65535' })
  port!: number;

  @ApiPropertyOptional({ example: 'app' })
  @IsOptional()
  @IsString({ message: 'database must be a string' })
  @Length(1, 63, { message: 'database must be 1-63 characters' })
  database?: string;

  @ApiPropertyOptional({ example: 'readonly' })
  @IsOptional()
  @IsString({ message: 'user must be a string' })
  @Length(1, 63, { message: 'user must be 1-63 characters' })
  user?: string;

  @ApiPropertyOptional({ description: 'Secret reference resolved by the agent', example: 'env:PG_PASSWORD' })
  @IsOptional()
  @IsString({ message: 'secret must be a string' })
  @Matches(SECRET_REF_PATTERN, {
    message:
      'secret must be a reference such as env:PG_PASSWORD or file:/run/secrets/pg-password; the control plane never stores secret values',
  })
  secret?: string;

  @ApiPropertyOptional({ enum: TLS_MODES, default: 'prefer' })
  @IsOptional()
  @IsIn(TLS_MODES, { message: `tlsMode must be one of ${TLS_MODES.join(', ')}` })
  tlsMode?: TlsMode;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, example: { env: 'prod', team: 'payments' } })
  @IsOptional()
  @IsObject({ message: 'tags must be an object of key: value labels' })
  tags?: Record<string, string>;

  @ApiPropertyOptional({
    type: 'object', additionalProperties: { type: 'string' },
    description: 'Type-specific settings. http/kubernetes: credential (bearer | basic | header | client-cert), header, scheme (http | https), ca (env:/file: reference). ssh: credential (password | key).',
    example: { credential: 'bearer', scheme: 'https' },
  })
  @IsOptional()
  @IsObject({ message: 'options must be an object of key: value settings' })
  options?: Record<string, string>;
}
