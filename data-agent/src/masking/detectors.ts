/**
 * Content detectors: where sensitive values sit inside a piece of text. Each is a regular expression
 * for the shape plus, where the shape alone is too loose, a checksum (Luhn for cards, mod-97 for
 * IBANs) or a range check, so that an order number is not taken for a card. Pure functions.
 */
import { isIPv6 } from 'node:net';
import type { DetectorName } from './types.js';

export interface Span {
  start: number;
  end: number;
}

interface Detector {
  /** Global and sticky-free; word boundaries are written into the pattern. */
  pattern: RegExp;
  /** A second look at a candidate the pattern found. */
  valid?: (match: string) => boolean;
  /**
   * A cheap necessary condition on the whole text: false means the pattern cannot match, so it is
   * not run. Most values (ids, dates, words) fail every one of these, which is where masking's time went.
   */
  mayMatch: (p: TextProfile) => boolean;
}

/** Character counts of a text, taken in one pass, that the detectors' necessary conditions read. */
export interface TextProfile {
  text: string;
  digits: number;
  upper: number;
  at: number;
  dashes: number;
  colons: number;
  dots: number;
}

export function profileOf(text: string): TextProfile {
  const p: TextProfile = { text, digits: 0, upper: 0, at: 0, dashes: 0, colons: 0, dots: 0 };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) p.digits++;
    else if (c >= 65 && c <= 90) p.upper++;
    else if (c === 64) p.at++;
    else if (c === 45) p.dashes++;
    else if (c === 58) p.colons++;
    else if (c === 46) p.dots++;
  }
  return p;
}

const API_KEY_HINT = /[spr]k_|AKIA|ASIA|gh[pousr]_|github_pat_|xox[abposr]-|AIza|glpat-/;

const DETECTORS: Record<DetectorName, Detector> = {
  email: { pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g, mayMatch: (p) => p.at > 0 && p.dots > 0 },
  // 13–19 digits, optionally grouped by single spaces or dashes.
  card: { pattern: /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g, valid: (m) => luhn(m.replace(/[ -]/g, '')), mayMatch: (p) => p.digits >= 13 },
  iban: { pattern: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b/g, valid: (m) => ibanChecksum(m.replace(/ /g, '')), mayMatch: (p) => p.upper >= 2 && p.digits >= 2 && p.text.length >= 15 },
  ssn: { pattern: /(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])/g, mayMatch: (p) => p.digits >= 9 && p.dashes >= 2 },
  // International (+CC ...) or North American (555) 123-4567 / 555-123-4567 forms; bare digit runs are not phones.
  phone: {
    pattern: /(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){2,4}|\(\d{3}\) ?\d{3}[ .-]\d{4}|\d{3}[.-]\d{3}[.-]\d{4})(?![\w-])/g,
    valid: (m) => { const n = m.replace(/\D/g, '').length; return n >= 8 && n <= 15; },
    mayMatch: (p) => p.digits >= 8,
  },
  ipv4: { pattern: /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.])/g, mayMatch: (p) => p.digits >= 4 && p.dots >= 3 },
  // A run of hex digits and colons with at least two colons, then the real parser decides.
  ipv6: { pattern: /(?<![\w:.])(?=[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:)[0-9A-Fa-f:]{2,39}(?![\w:])/g, valid: (m) => isIPv6(m), mayMatch: (p) => p.colons >= 2 },
  jwt: { pattern: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}/g, mayMatch: (p) => p.dots >= 2 && p.text.includes('eyJ') },
  'api-key': {
    pattern: /\b(?:(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|(?:AKIA|ASIA)[A-Z0-9]{16}|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,}|xox[abposr]-[A-Za-z0-9-]{10,}|AIza[A-Za-z0-9_-]{35}|glpat-[A-Za-z0-9_-]{20,})\b/g,
    mayMatch: (p) => p.text.length >= 15 && API_KEY_HINT.test(p.text),
  },
};

/** The spans of `text` found by the named detectors and the custom patterns, sorted and merged. */
export function detect(text: string, names: readonly DetectorName[], patterns: readonly RegExp[] = [], profile: TextProfile = profileOf(text)): Span[] {
  const spans: Span[] = [];
  for (const name of names) {
    const d = DETECTORS[name];
    if (d.mayMatch(profile)) collect(text, d.pattern, d.valid, spans);
  }
  for (const p of patterns) collect(text, p, undefined, spans);
  return merge(spans);
}

function collect(text: string, pattern: RegExp, valid: ((m: string) => boolean) | undefined, out: Span[]): void {
  const re = pattern.global ? pattern : new RegExp(pattern.source, `${pattern.flags}g`);
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[0] === '') {
      re.lastIndex++; // an empty match would loop forever and masks nothing
      continue;
    }
    if (!valid || valid(m[0])) out.push({ start: m.index, end: m.index + m[0].length });
  }
}

function merge(spans: Span[]): Span[] {
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Span[] = [];
  for (const s of spans) {
    const last = out[out.length - 1];
    if (last && s.start < last.end) last.end = Math.max(last.end, s.end);
    else out.push({ ...s });
  }
  return out;
}

export function luhn(digits: string): boolean {
  if (!/^\d{12,19}$/.test(digits) || /^0+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

/** ISO 13616: move the first four characters to the end, letters to numbers, remainder mod 97 is 1. */
export function ibanChecksum(iban: string): boolean {
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const value = code >= 65 ? String(code - 55) : ch;
    for (const digit of value) rest = (rest * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return rest === 1;
}
