import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { GROUP_NAME_PATTERN, GROUP_NAME_RULE, USER_NAME_PATTERN, USER_NAME_RULE } from '../../common/names.js';
import { ROLES, type Role } from '../roles.js';

export class CreateUserDto {
  @ApiProperty({ example: 'alice@example.com', pattern: USER_NAME_PATTERN.source })
  @IsString({ message: 'name must be a string' })
  @Matches(USER_NAME_PATTERN, { message: `name ${USER_NAME_RULE}` })
  name!: string;

  @ApiPropertyOptional({ type: [String], example: ['engineers'], description: 'Policies name them as group:NAME' })
  @IsOptional()
  @IsArray({ message: 'groups must be a list of group names' })
  @ArrayMaxSize(64, { message: 'groups may hold at most 64 names' })
  @IsString({ each: true, message: 'groups must be a list of group names' })
  @Matches(GROUP_NAME_PATTERN, { each: true, message: `each group name ${GROUP_NAME_RULE}` })
  groups?: string[];

  @ApiPropertyOptional({ enum: ROLES, default: 'user', description: 'admin: everything; reviewer: decide reviews addressed to them; user: connect as policies allow; auditor: read sessions, reviews and audit' })
  @IsOptional()
  @IsIn(ROLES, { message: `role must be one of ${ROLES.join(', ')}` })
  role?: Role;
}
