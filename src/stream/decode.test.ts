import { describe, expect, it } from 'vitest';
import { decodeBase64, decodeBase64Json } from './decode.js';

const base64 = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64');

describe('decodeBase64Json', () => {
  it('decodes base64 of UTF-8 JSON', () => {
    expect(decodeBase64Json(base64('{"key":"a","version":2,"note":"café"}'))).toEqual({
      ok: true,
      payload: { key: 'a', version: 2, note: 'café' },
    });
  });

  it.each([
    ['characters outside the alphabet', 'not base64!!', 'undecodable: data is not valid base64'],
    ['a length that is not a multiple of 4', 'YWJjZA=', 'undecodable: data is not valid base64'],
    [
      'invalid UTF-8 inside valid base64',
      base64(new Uint8Array([0xff, 0xfe, 0x7b])),
      'undecodable: data is not valid UTF-8',
    ],
  ])('refuses %s', (_name, data, reason) => {
    expect(decodeBase64Json(data)).toEqual({ ok: false, reason });
  });

  it('names the JSON error for valid base64 of invalid JSON', () => {
    const decoded = decodeBase64Json(base64('{"key":'));
    expect(decoded.ok).toBe(false);
    expect(decoded.ok ? '' : decoded.reason).toMatch(/^invalid JSON: /);
  });

  it('refuses a record without data', () => {
    expect(decodeBase64Json(undefined)).toEqual({ ok: false, reason: 'undecodable: the record has no data' });
  });

  it('is stricter than Buffer.from, which silently skips what it cannot read', () => {
    expect(Buffer.from('e30=!!', 'base64').toString()).toBe('{}');
    expect(decodeBase64('e30=!!')).toBeUndefined();
    expect(decodeBase64('')?.byteLength).toBe(0);
  });
});
