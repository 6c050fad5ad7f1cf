import { ApiPropertyOptional, ApiProperty } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';

export class ApproveReviewDto {
  @ApiPropertyOptional({ description: 'Let the identical statement by the same person pass for this many seconds', example: 3600 })
  @IsOptional()
  @IsInt({ message: 'forSeconds must be a whole number of seconds' })
  @Min(1, { message: 'forSeconds must be at least 1' })
  @Max(30 * 24 * 3600, { message: 'forSeconds must be at most 30 days' })
  forSeconds?: number;

  @ApiPropertyOptional({ example: 'checked with the on-call DBA' })
  @IsOptional()
  @IsString({ message: 'comment must be text' })
  @Length(0, 2000, { message: 'comment must be at most 2000 characters' })
  comment?: string;
}

export class RejectReviewDto {
  @ApiProperty({ example: 'this would lock the orders table during business hours' })
  @IsString({ message: 'reason is required: tell the requester why' })
  @Length(1, 2000, { message: 'reason must be 1 to 2000 characters' })
  reason!: string;
}
