import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { GROUP_NAME_PATTERN, GROUP_NAME_RULE, NAME_PATTERN, NAME_RULE } from '../../common/names.js';
import { ROLES, type Role } from '../roles.js';

export class CreateServiceAccountDto {
  @ApiProperty({ example: 'nightly-ci', pattern: NAME_PATTERN.source, description: 'Policies name it serviceaccount:NAME' })
  @IsString({ message: 'name must be a string' })
  @Matches(NAME_PATTERN, { message: `name ${NAME_RULE}` })
  name!: string;

  @ApiPropertyOptional({ enum: ROLES, default: 'user' })
  @IsOptional()
  @IsIn(ROLES, { message: `role must be one of ${ROLES.join(', ')}` })
  role?: Role;

  @ApiPropertyOptional({ type: [String], example: ['ci'], description: 'Policies name them as group:NAME' })
  @IsOptional()
  @IsArray({ message: 'groups must be a list of group names' })
  @ArrayMaxSize(64, { message: 'groups may hold at most 64 names' })
  @IsString({ each: true, message: 'groups must be a list of group names' })
  @Matches(GROUP_NAME_PATTERN, { each: true, message: `each group name ${GROUP_NAME_RULE}` })
  groups?: string[];

  @ApiPropertyOptional({ example: 'runs the nightly data checks' })
  @IsOptional()
  @IsString({ message: 'description must be a string' })
  @Length(0, 500, { message: 'description must be at most 500 characters' })
  description?: string;

  @ApiPropertyOptional({ example: '90d', description: 'How long the key works: 90s, 15m, 1h, 30d; no expiry when absent' })
  @IsOptional()
  @IsString({ message: 'expiresIn must be a duration such as 30d, 12h or 90m' })
  @Matches(/^(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?$/, { message: 'expiresIn must be a duration such as 30d, 12h or 90m' })
  expiresIn?: string;
}
