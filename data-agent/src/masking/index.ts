export { detect, ibanChecksum, luhn, type Span } from './detectors.js';
export { Masker, compileColumnGlob, type ColumnIdentity, type ColumnMasking, type ColumnSource } from './masker.js';
export { applyMode, REDACTED } from './modes.js';
export { DETECTOR_NAMES, type DetectorName, type MaskingRule, type MaskMode } from './types.js';
