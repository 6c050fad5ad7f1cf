import type { DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DatabaseConfig } from '../config/config.js';
import { dataSourceOptions } from './data-source-options.js';

/** Errors worth retrying at start (the database is still coming up); a failed migration is not one of them. */
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', '57P03']);

export function databaseModule(database: DatabaseConfig): DynamicModule {
  return TypeOrmModule.forRoot({
    ...dataSourceOptions(database),
    retryAttempts: 5,
    retryDelay: 1000,
    toRetry: (error: unknown) => TRANSIENT_CODES.has(String((error as { code?: unknown }).code)),
  });
}
