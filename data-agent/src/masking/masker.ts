/**
 * A session's masking rules, ready to apply: which result columns a column rule selects, and what
 * the content detectors make of any text value. Pure: the key is given, nothing is read or logged.
 */
import { detect, profileOf } from './detectors.js';
import { applyMode, stricterMode } from './modes.js';
import type { DetectorName, MaskingRule, MaskMode } from './types.js';

/** A result column traced back to the table column it reads. */
export interface ColumnIdentity {
  schema: string;
  table: string;
  column: string;
}

/**
 * Where a result column comes from: a table column, a table column whose table could not be
 * resolved (every column rule is then taken to match: fail closed), or an expression (no table).
 */
export type ColumnSource = ColumnIdentity | 'unresolved' | 'expression';

export interface ColumnMasking {
  /** True when a column rule selects the whole column (its values are masked whole, whatever they hold). */
  byRule: boolean;
  mask(value: string): string;
}

interface ColumnGlob {
  schema: RegExp;
  table: RegExp;
  column: RegExp;
}

interface ContentRule {
  detectors: DetectorName[];
  patterns: RegExp[];
  mode: MaskMode;
}

const REDACT: MaskMode = { kind: 'redact' };

export class Masker {
  private readonly columnRules: { globs: ColumnGlob[]; mode: MaskMode }[] = [];
  private readonly contentRules: ContentRule[] = [];
  private readonly content: ColumnMasking | undefined;

  constructor(rules: readonly MaskingRule[], private readonly key: Buffer) {
    for (const rule of rules) {
      if ('columns' in rule) this.columnRules.push({ globs: rule.columns.map(compileColumnGlob), mode: rule.mode });
      else if ('detect' in rule) this.contentRules.push({ detectors: [...rule.detect], patterns: [], mode: rule.mode });
      else this.contentRules.push({ detectors: [], patterns: [rule.pattern], mode: rule.mode });
    }
    this.content = this.contentRules.length > 0 ? { byRule: false, mask: (v) => this.maskText(v) } : undefined;
  }

  get hasColumnRules(): boolean {
    return this.columnRules.length > 0;
  }

  get hasContentRules(): boolean {
    return this.contentRules.length > 0;
  }

  /** How the values of one result column are masked; undefined when they pass unchanged. */
  forColumn(source: ColumnSource): ColumnMasking | undefined {
    const mode = this.columnMode(source);
    if (mode) return { byRule: true, mask: (v) => applyMode(v, mode, this.key) };
    return this.content;
  }

  /** The column rules' verdict: the strictest mode among the rules that select it. */
  private columnMode(source: ColumnSource): MaskMode | undefined {
    if (source === 'expression' || this.columnRules.length === 0) return undefined;
    if (source === 'unresolved') return REDACT;
    let mode: MaskMode | undefined;
    for (const rule of this.columnRules) {
      if (rule.globs.some((g) => g.schema.test(source.schema) && g.table.test(source.table) && g.column.test(source.column))) {
        mode = mode ? stricterMode(mode, rule.mode) : rule.mode;
      }
    }
    return mode;
  }

  /** Runs every content rule over `text`; each found span is replaced by its (strictest) mode's token. */
  maskText(text: string): string {
    if (this.contentRules.length === 0 || text === '') return text;
    const found: { start: number; end: number; mode: MaskMode }[] = [];
    const profile = profileOf(text);
    for (const rule of this.contentRules) {
      for (const span of detect(text, rule.detectors, rule.patterns, profile)) found.push({ ...span, mode: rule.mode });
    }
    if (found.length === 0) return text;
    found.sort((a, b) => a.start - b.start || b.end - a.end);
    const merged: typeof found = [];
    for (const s of found) {
      const last = merged[merged.length - 1];
      if (last && s.start < last.end) {
        last.end = Math.max(last.end, s.end);
        last.mode = stricterMode(last.mode, s.mode);
      } else {
        merged.push({ ...s });
      }
    }
    let out = '';
    let at = 0;
    for (const s of merged) {
      out += text.slice(at, s.start) + applyMode(text.slice(s.start, s.end), s.mode, this.key);
      at = s.end;
    }
    return out + text.slice(at);
  }
}

function segment(glob: string): RegExp {
  const body = glob.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  // Case-insensitive: a masking rule may select more than asked ("Email" and email), never less.
  return new RegExp(`^${body}$`, 'i');
}

/** `table.column` (any schema) or `schema.table.column`. */
export function compileColumnGlob(glob: string): ColumnGlob {
  const parts = glob.split('.');
  const [schema, table, column] = parts.length >= 3 ? parts : ['*', parts[0] ?? '*', parts[1] ?? '*'];
  return { schema: segment(schema!), table: segment(table!), column: segment(column!) };
}
