import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareUtf8, compareVersions } from './order.js';

const utf8Order = (a: string, b: string) => Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));

describe('compareUtf8', () => {
  it('orders strings by their UTF-8 bytes, as DynamoDB does, where JavaScript does not', () => {
    expect('\u{1F600}' < '\uFFFD').toBe(true); // UTF-16 code units: the surrogate 0xD83D sorts first
    expect(compareUtf8('\u{1F600}', '\uFFFD')).toBe(1);
    expect(compareUtf8('\uFFFD', '\u{1F600}')).toBe(-1);
    expect(compareUtf8('a', 'A')).toBe(1);
    expect(compareUtf8('ab', 'a')).toBe(1);
    expect(compareUtf8('', '')).toBe(0);
  });

  it('agrees with Buffer.compare of the UTF-8 bytes for any well-formed strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        expect(compareUtf8(a, b)).toBe(utf8Order(a, b));
      }),
      { seed: 12, numRuns: 2000 },
    );
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', '\uE000', '\uFFFD', '\u{10000}', '\u{1F600}', '\u00e9', '\u07ff')),
        fc.array(fc.constantFrom('a', '\uE000', '\uFFFD', '\u{10000}', '\u{1F600}', '\u00e9', '\u07ff')),
        (a, b) => {
          expect(compareUtf8(a.join(''), b.join(''))).toBe(utf8Order(a.join(''), b.join('')));
        },
      ),
      { seed: 12, numRuns: 2000 },
    );
  });

  it('orders versions: numbers by value, strings by UTF-8, mixed types not at all', () => {
    expect(compareVersions(2, 10)).toBe(-1);
    expect(compareVersions('\u{1F600}', '\uFFFD')).toBe(1);
    expect(compareVersions('1', 1)).toBeUndefined();
  });
});
