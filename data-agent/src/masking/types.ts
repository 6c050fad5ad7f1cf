/**
 * Plain masking rules as the agent applies them. They mirror airlock.v1.MaskingRule (see
 * policy/wire.ts for the converter), so the masking functions never depend on protobuf.
 */

export const DETECTOR_NAMES = ['email', 'card', 'iban', 'ssn', 'phone', 'ipv4', 'ipv6', 'jwt', 'api-key'] as const;
export type DetectorName = (typeof DETECTOR_NAMES)[number];

export type MaskMode = { kind: 'redact' } | { kind: 'keep-last'; keep: number } | { kind: 'hash' };

/** Exactly one way of choosing what to mask, and how. */
export type MaskingRule =
  /** `table.column` or `schema.table.column` globs, '*' inside a segment; matched against RowDescription. */
  | { columns: string[]; mode: MaskMode }
  /** Content detectors run over every text value. */
  | { detect: DetectorName[]; mode: MaskMode }
  /** A custom content detector (a regular expression, flags `gu`). */
  | { pattern: RegExp; mode: MaskMode };
