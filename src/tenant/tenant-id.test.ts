import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RacesafeError } from '../errors.js';
import { checkTenantId, tenantKeyCodec, tenantPrefix } from './tenant-id.js';

const tenantId = fc.stringMatching(/^[A-Za-z0-9_.=+@-]{1,48}$/);

describe('tenant ids and prefixes', () => {
  it("no tenant reaches another: a key under one prefix never starts with another tenant's prefix", () => {
    fc.assert(
      fc.property(tenantId, tenantId, fc.string(), (a, b, key) => {
        fc.pre(a !== b);
        const stored = `${tenantPrefix(a)}${key}`;
        expect(stored.startsWith(tenantPrefix(b))).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses ids that would be a prefix trick, a wildcard or a policy variable', () => {
    for (const bad of ['', 'a#b', 'blue#', '*', 'blu?', ['$', '{aws:username}'].join(''), 'a b', 'x'.repeat(49), 'é']) {
      expect(() => checkTenantId(bad), bad).toThrow(RacesafeError);
    }
    expect(() => checkTenantId('blue2')).not.toThrow();
    expect(() => tenantPrefix('blue', { separator: 'b' })).toThrow(/keys.separator/);
    expect(tenantPrefix('blue', { label: 'T', separator: '|' })).toBe('T|blue|');
  });

  it("round-trips a key and refuses stored-looking keys and other tenants' stored keys", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((key) => !key.startsWith('TENANT#')),
        (key) => {
          const blue = tenantKeyCodec('blue');
          expect(blue.unscope(blue.scope(key, 'k'), 'k')).toBe(key);
        },
      ),
    );
    const blue = tenantKeyCodec('blue');
    expect(() => blue.scope('TENANT#green#x', 'Key.pk')).toThrow(/may not start with TENANT#/);
    expect(() => blue.unscope('TENANT#blue2#x', 'Item.pk')).toThrow(RacesafeError);
    expect(() => blue.scope(7, 'Key.pk')).toThrow(/must be a non-empty string/);
  });
});
