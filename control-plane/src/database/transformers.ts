import type { ValueTransformer } from 'typeorm';

/**
 * bigint columns come back as strings from pg and as bigint from PGlite; byte counts and
 * durations stay far below 2^53, so a JS number is exact and easier for every caller.
 */
export const bigintAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | bigint | number | null) => (value === null || value === undefined ? null : Number(value)),
};
