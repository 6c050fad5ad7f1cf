import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { MAX_STATEMENTS_PAGE } from '../sessions.service.js';

export class StatementsAfterQuery {
  @ApiPropertyOptional({ default: 0, minimum: 0, description: 'Only statements with a greater sequence number' })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'after must be a sequence number (a whole number of 0 or more)' })
  @Min(0, { message: 'after must be a sequence number (a whole number of 0 or more)' })
  after?: number;

  @ApiPropertyOptional({ default: MAX_STATEMENTS_PAGE, minimum: 1, maximum: MAX_STATEMENTS_PAGE })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: `limit must be an integer between 1 and ${MAX_STATEMENTS_PAGE}` })
  @Min(1, { message: `limit must be an integer between 1 and ${MAX_STATEMENTS_PAGE}` })
  @Max(MAX_STATEMENTS_PAGE, { message: `limit must be an integer between 1 and ${MAX_STATEMENTS_PAGE}` })
  limit?: number;
}
