import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsString, Length, Max, Min } from 'class-validator';

/** `POST /v1/access-requests`: what `airlock request CONNECTION --for 30m --reason "..."` sends. */
export class RequestAccessDto {
  @ApiProperty({ example: 'prod-orders' })
  @IsString({ message: 'connection must be a connection name' })
  @Length(1, 200, { message: 'connection must be a connection name' })
  connection!: string;

  @ApiProperty({ description: 'How long the grant should last once approved, at most the policy\'s accessDuration', example: 1800 })
  @IsInt({ message: 'forSeconds must be a whole number of seconds' })
  @Min(1, { message: 'forSeconds must be at least 1' })
  @Max(30 * 24 * 3600, { message: 'forSeconds must be at most 30 days' })
  forSeconds!: number;

  @ApiProperty({ example: 'INC-4211: fix the stuck refunds' })
  @IsString({ message: 'reason is required: tell the reviewers why you need access' })
  @Length(1, 2000, { message: 'reason must be 1 to 2000 characters' })
  reason!: string;
}
