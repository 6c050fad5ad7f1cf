import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';

export class KillSessionDto {
  @ApiPropertyOptional({ example: 'dropping tables outside the change window', description: 'Told to the client with the 57P01 error' })
  @IsOptional()
  @IsString({ message: 'reason must be text' })
  @Length(0, 500, { message: 'reason must be at most 500 characters' })
  reason?: string;
}
