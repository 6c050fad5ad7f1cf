import { describe, expect, it } from 'vitest';
import { detect, profileOf, type TextProfile } from './detectors.js';
import { DETECTOR_NAMES } from './types.js';

/** A profile that lets every detector run: detect() then behaves as it did before prefilters existed. */
function everything(text: string): TextProfile {
  return { text, digits: 1e9, upper: 1e9, at: 1e9, dashes: 1e9, colons: 1e9, dots: 1e9 };
}

/** Deterministic pseudo-random text, dense in the characters detectors look for. */
function* texts(count: number): Generator<string> {
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  const pieces = ['4111 1111 1111 1111', 'DE89370400440532013000', '123-45-6789', '+44 20 7946 0958', '(555) 123-4567', '10.0.0.1',
    'fe80::1', '2001:db8::ff00:42:8329', 'eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJlMTIz', 'sk_live_abcdefghijklmnop', 'AKIAABCDEFGHIJKLMNOP',
    'xoxb-1234567890', 'ann@example.com', '@', '.', '-', ':', ' ', '0', '7', 'A', 'Z', 'x', 'eyJ', 'sk_', '_'];
  for (let i = 0; i < count; i++) {
    let text = '';
    const n = next() % 12;
    for (let k = 0; k < n; k++) text += pieces[next() % pieces.length];
    yield text;
  }
}

describe('detector prefilters', () => {
  it('never hide a value the detector finds (they only skip texts that cannot match)', () => {
    let found = 0;
    for (const text of texts(20_000)) {
      for (const name of DETECTOR_NAMES) {
        const unfiltered = detect(text, [name], [], everything(text));
        found += unfiltered.length;
        expect(detect(text, [name], [], profileOf(text)), `${name} in ${JSON.stringify(text)}`).toEqual(unfiltered);
      }
    }
    expect(found).toBeGreaterThan(10_000); // the texts really do contain values to find
  });
});
