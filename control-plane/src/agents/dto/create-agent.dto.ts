import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { NAME_PATTERN, NAME_RULE } from '../../common/names.js';

export class CreateAgentDto {
  @ApiProperty({ example: 'eu-west-db', pattern: NAME_PATTERN.source })
  @IsString({ message: 'name must be a string' })
  @Matches(NAME_PATTERN, { message: `name ${NAME_RULE}` })
  name!: string;

  @ApiPropertyOptional({ description: 'How long the join token stays valid', default: 3600, minimum: 60, maximum: 604800 })
  @IsOptional()
  @IsInt({ message: 'joinTokenTtlSeconds must be an integer' })
  @Min(60, { message: 'joinTokenTtlSeconds must be at least 60' })
  @Max(604800, { message: 'joinTokenTtlSeconds must be at most 604800 (7 days)' })
  joinTokenTtlSeconds?: number;
}
