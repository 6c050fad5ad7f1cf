import { describe, expect, it } from 'vitest';
import { Masker } from '../../masking/index.js';
import { maskJson } from './json-masking.js';

const key = Buffer.alloc(32, 1);

describe('maskJson', () => {
  it('masks fields by path (parent.field, arrays skipped) and leaves everything else byte for byte', () => {
    const masker = new Masker([{ columns: ['customers.ssn', '*.email'], mode: { kind: 'redact' } }], key);
    const text = '{"customers": [ {"id": 12345678901234567890, "ssn": "123-45-6789", "email":"a@b.example"} ],\n "owner": {"email": "o@b.example", "ssn": "keep"}}';
    const masked = maskJson(text, masker)!;
    expect(masked).toContain('"id": 12345678901234567890');
    expect(masked).toContain('"ssn": "keep"');
    expect(masked).not.toContain('123-45-6789');
    expect(masked).not.toContain('a@b.example');
    expect(masked).not.toContain('o@b.example');
    expect(JSON.parse(masked.replace(/12345678901234567890/, '1')).owner.ssn).toBe('keep');
  });

  it('masks a selected field whatever it holds: numbers become the masked string', () => {
    const masker = new Masker([{ columns: ['*.card'], mode: { kind: 'keep-last', keep: 4 } }], key);
    const masked = JSON.parse(maskJson('{"card": 4111111111111111, "n": null, "card2": true}', masker)!);
    expect(typeof masked.card).toBe('string');
    expect(masked.card.endsWith('1111')).toBe(true);
    expect(masked.card).not.toBe('4111111111111111');
    expect(masked.n).toBeNull();
  });

  it('runs content detectors over every string value, escapes included, never over keys', () => {
    const masker = new Masker([{ detect: ['email'], mode: { kind: 'redact' } }], key);
    const masked = maskJson('{"a@b.example": "write to \\"x@y.example\\" today", "list": ["z@w.example", 1]}', masker)!;
    expect(masked).toContain('"a@b.example"');
    expect(masked).not.toContain('x@y.example');
    expect(masked).not.toContain('z@w.example');
    expect(JSON.parse(masked).list[1]).toBe(1);
  });

  it('returns undefined for a body that is not JSON', () => {
    const masker = new Masker([{ detect: ['email'], mode: { kind: 'redact' } }], key);
    expect(maskJson('{"a": ', masker)).toBeUndefined();
    expect(maskJson('a@b.example', masker)).toBeUndefined();
  });
});
