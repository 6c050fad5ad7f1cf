import { describe, expect, it } from 'vitest';
import { detect, ibanChecksum, luhn } from './detectors.js';
import { Masker } from './masker.js';
import { applyMode } from './modes.js';
import { DETECTOR_NAMES, type DetectorName } from './types.js';

const key = Buffer.from('test-agent-key');
const found = (text: string, names: DetectorName[]) => detect(text, names).map((s) => text.slice(s.start, s.end));

describe('content detectors', () => {
  it.each([
    ['email', 'write to jane.doe+billing@example.co.uk today', 'jane.doe+billing@example.co.uk'],
    ['card', 'paid with 4111 1111 1111 1111.', '4111 1111 1111 1111'],
    ['card', 'amex 378282246310005', '378282246310005'],
    ['card', 'mc 5500-0000-0000-0004', '5500-0000-0000-0004'],
    ['iban', 'IBAN DE89370400440532013000 on file', 'DE89370400440532013000'],
    ['iban', 'GB82 WEST 1234 5698 7654 32', 'GB82 WEST 1234 5698 7654 32'],
    ['ssn', 'ssn 123-45-6789', '123-45-6789'],
    ['phone', 'call +1 415 555 0100 now', '+1 415 555 0100'],
    ['phone', 'or (415) 555-0100', '(415) 555-0100'],
    ['phone', 'london +44 20 7946 0958', '+44 20 7946 0958'],
    ['ipv4', 'from 192.168.10.20:5432', '192.168.10.20'],
    ['ipv6', 'from 2001:db8::8a2e:370:7334 ok', '2001:db8::8a2e:370:7334'],
    ['ipv6', 'link fe80::1', 'fe80::1'],
    ['jwt', 'Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'],
    ['api-key', 'key=sk_live_4eC39HqLyjWDarjtT1zdp7dc;', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'],
    ['api-key', 'aws AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE'],
    ['api-key', 'token ghp_16C7e42F292c6912E7710c838347Ae178B4a here', 'ghp_16C7e42F292c6912E7710c838347Ae178B4a'],
  ] as [DetectorName, string, string][])('%s finds %s', (name, text, value) => {
    expect(found(text, [name])).toEqual([value]);
  });

  it.each([
    ['card', 'a number failing Luhn', '4111 1111 1111 1112'],
    ['card', 'an order number', 'order 1234567890123'],
    ['card', 'all zeros', '0000000000000000'],
    ['iban', 'an IBAN with a wrong check', 'DE89370400440532013001'],
    ['ssn', 'an SSN with area 000', '000-12-3456'],
    ['ssn', 'a date', '2024-01-15'],
    ['phone', 'a date', '2024-01-15'],
    ['phone', 'a bare number', 'invoice 20240115'],
    ['ipv4', 'an out-of-range quad', '999.10.1.1'],
    ['ipv6', 'a time of day', '12:30:45'],
    ['api-key', 'a short sk_ prefix', 'sk_live_short'],
    ['email', 'a handle', '@jane on chat'],
  ] as [DetectorName, string, string][])('%s ignores %s', (name, _what, text) => {
    expect(found(text, [name])).toEqual([]);
  });

  it('checks Luhn and mod-97 exactly', () => {
    expect(luhn('4111111111111111')).toBe(true);
    expect(luhn('4111111111111112')).toBe(false);
    expect(ibanChecksum('FR1420041010050500013M02606')).toBe(true);
    expect(ibanChecksum('FR1420041010050500013M02607')).toBe(false);
  });

  it('runs a custom pattern and never loops on an empty match', () => {
    expect(detect('ref ACME-123456 and ACME-12', [], [/ACME-[0-9]{6}/gu]).length).toBe(1);
    expect(detect('abc', [], [/x*/gu])).toEqual([]);
  });
});

describe('modes', () => {
  it('redacts, keeps the last N characters, and hashes deterministically', () => {
    expect(applyMode('4111111111111111', { kind: 'redact' }, key)).toBe('****');
    expect(applyMode('4111111111111111', { kind: 'keep-last', keep: 4 }, key)).toBe('************1111');
    expect(applyMode('abc', { kind: 'keep-last', keep: 4 }, key)).toBe('****');
    const h = applyMode('jane@example.com', { kind: 'hash' }, key);
    expect(h).toMatch(/^h:[0-9a-f]{12}$/);
    expect(applyMode('jane@example.com', { kind: 'hash' }, key)).toBe(h);
    expect(applyMode('john@example.com', { kind: 'hash' }, key)).not.toBe(h);
    expect(applyMode('jane@example.com', { kind: 'hash' }, Buffer.from('another agent'))).not.toBe(h);
  });
});

describe('Masker', () => {
  const masker = new Masker([
    { columns: ['*.email', 'customers.ssn'], mode: { kind: 'redact' } },
    { columns: ['billing.customers.card_number'], mode: { kind: 'keep-last', keep: 4 } },
    { columns: ['*.card_number'], mode: { kind: 'hash' } },
    { detect: [...DETECTOR_NAMES], mode: { kind: 'hash' } },
    { pattern: /ACME-[0-9]{6}/gu, mode: { kind: 'redact' } },
  ], key);

  it('selects columns by table.column and schema.table.column globs, the strictest mode winning', () => {
    expect(masker.forColumn({ schema: 'public', table: 'users', column: 'email' })).toMatchObject({ byRule: true });
    expect(masker.forColumn({ schema: 'public', table: 'users', column: 'Email' })?.byRule).toBe(true);
    expect(masker.forColumn({ schema: 'crm', table: 'customers', column: 'ssn' })?.mask('123-45-6789')).toBe('****');
    expect(masker.forColumn({ schema: 'public', table: 'orders', column: 'ssn' })?.byRule).toBe(false);
    // keep-last and hash both select billing.customers.card_number: hash hides more.
    expect(masker.forColumn({ schema: 'billing', table: 'customers', column: 'card_number' })?.mask('4111111111111111')).toMatch(/^h:/);
  });

  it('fails closed for an unresolved table and leaves expressions to the detectors', () => {
    expect(masker.forColumn('unresolved')?.mask('hello')).toBe('****');
    expect(masker.forColumn('expression')?.mask('hello')).toBe('hello');
    expect(masker.forColumn('expression')?.mask('ACME-123456')).toBe('****');
  });

  it('masks only what the detectors find inside free text', () => {
    const note = 'Customer jane@example.com asked; key sk_live_4eC39HqLyjWDarjtT1zdp7dc, order 1234567890123';
    const out = masker.maskText(note);
    expect(out).toMatch(/^Customer h:[0-9a-f]{12} asked; key h:[0-9a-f]{12}, order 1234567890123$/);
  });

  it('changes nothing without rules', () => {
    const none = new Masker([], key);
    expect(none.forColumn({ schema: 'public', table: 'users', column: 'email' })).toBeUndefined();
    expect(none.maskText('jane@example.com')).toBe('jane@example.com');
  });
});
