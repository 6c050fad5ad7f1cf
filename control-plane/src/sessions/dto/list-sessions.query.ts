import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { MAX_SESSION_LIST_LIMIT } from '../sessions.service.js';

export class ListSessionsQuery {
  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: MAX_SESSION_LIST_LIMIT })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: `limit must be an integer between 1 and ${MAX_SESSION_LIST_LIMIT}` })
  @Min(1, { message: `limit must be an integer between 1 and ${MAX_SESSION_LIST_LIMIT}` })
  @Max(MAX_SESSION_LIST_LIMIT, { message: `limit must be an integer between 1 and ${MAX_SESSION_LIST_LIMIT}` })
  limit?: number;

  @ApiPropertyOptional({ description: 'Only sessions of this connection (by name)' })
  @IsOptional()
  @IsString({ message: 'connection must be a connection name' })
  connection?: string;
}
