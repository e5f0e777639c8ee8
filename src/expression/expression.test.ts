import { describe, expect, it } from 'vitest';
import { and, attributeNotExists, compare, not, or } from './condition.js';
import { failedGuardParts, guardCondition, guardParts } from './guard.js';
import { Placeholders } from './placeholders.js';
import { append, decrement, increment, remove, renderChanges, setIfNotExists, updateExpression } from './update.js';

describe('Placeholders', () => {
  it('gives one placeholder per name and a fresh one per value; user strings never enter the expression', () => {
    const p = new Placeholders();
    const hostile = 'x) OR attribute_exists(pk';
    const text = and(compare('status', '=', hostile), compare('status', '<>', 'a.b'), attributeNotExists('a.b'))(p);
    expect(text).toBe('(#n0 = :v0) AND (#n0 <> :v1) AND (attribute_not_exists(#n1))');
    expect(text).not.toContain(hostile);
    expect(p.attributes()).toEqual({
      ExpressionAttributeNames: { '#n0': 'status', '#n1': 'a.b' },
      ExpressionAttributeValues: { ':v0': hostile, ':v1': 'a.b' },
    });
  });

  it('leaves out empty maps (DynamoDB rejects an empty ExpressionAttributeValues)', () => {
    const p = new Placeholders();
    attributeNotExists('pk')(p);
    expect(p.attributes()).toEqual({ ExpressionAttributeNames: { '#n0': 'pk' } });
    expect(new Placeholders().attributes()).toEqual({});
  });

  it('merges fixed placeholders from several parts of one request', () => {
    const p = new Placeholders();
    p.fixed({ '#rs0': '_rsToken0' }, { ':rsTok': 't' });
    p.fixed({ '#rsVersion': 'version' }, { ':rsVersion': 3 });
    compare('status', '=', 'x')(p);
    expect(p.attributes()).toEqual({
      ExpressionAttributeNames: { '#n0': 'status', '#rs0': '_rsToken0', '#rsVersion': 'version' },
      ExpressionAttributeValues: { ':v0': 'x', ':rsTok': 't', ':rsVersion': 3 },
    });
  });

  it('fixed names shared by two expressions of a request, and fixed values alone', () => {
    const register = { '#rs0': '_rsToken0', '#rs1': '_rsToken1' };
    const p = new Placeholders();
    p.fixed(register, { ':rsTok': 't' });
    p.fixed(register, { ':rsTok': 't', ':rsNone': '-' });
    expect(p.attributes()).toEqual({
      ExpressionAttributeNames: register,
      ExpressionAttributeValues: { ':rsTok': 't', ':rsNone': '-' },
    });
    const valuesOnly = new Placeholders();
    valuesOnly.fixed({}, { ':rsTok': 't' });
    expect(valuesOnly.attributes()).toEqual({ ExpressionAttributeValues: { ':rsTok': 't' } });
  });

  it('nests or/not with parentheses', () => {
    const p = new Placeholders();
    expect(or(attributeNotExists('pk'), not(compare('v', '<', 1)))(p)).toBe(
      '(attribute_not_exists(#n0)) OR (NOT (#n1 < :v0))',
    );
  });
});

describe('guards', () => {
  const parts = guardParts(
    { quantity: { gte: 2, lt: 100 }, status: { eq: 'open' }, deletedAt: { exists: false } },
    'require',
  );

  it('renders each rule as a placeholder condition, all joined with AND', () => {
    const p = new Placeholders();
    expect(guardCondition(parts)?.(p)).toBe(
      '(#n0 >= :v0) AND (#n0 < :v1) AND (#n1 = :v2) AND (attribute_not_exists(#n2))',
    );
    expect(guardCondition([])).toBeUndefined();
  });

  it('names the rules a stored item breaks', () => {
    const failed = failedGuardParts(parts, { quantity: 1, status: 'open', deletedAt: 5 }).map((part) => part.label);
    expect(failed).toEqual(['quantity >= 2', 'deletedAt does not exist']);
    expect(failedGuardParts(parts, { quantity: 5, status: 'open' })).toEqual([]);
    expect(failedGuardParts(guardParts({ q: { gte: 1 } }, 'r'), { q: '5' }).length).toBe(1);
  });

  it('rejects unknown rules, undefined operands and non-finite numbers, naming the field', () => {
    expect(() => guardParts({ q: { atLeast: 1 } as never }, 'require')).toThrow(
      expect.objectContaining({
        code: 'validation.invalidInput',
        details: expect.objectContaining({ field: 'require.q.atLeast' }),
      }),
    );
    expect(() => guardParts({ q: { gte: undefined } as never }, 'require')).toThrow(/require.q.gte/);
    expect(() => guardParts({ q: { gte: Number.NaN } }, 'require')).toThrow(/finite/);
    expect(() => guardParts({ q: 5 as never }, 'require')).toThrow(/rule object/);
  });
});

describe('update changes', () => {
  it('renders values and operations into SET and REMOVE clauses', () => {
    const p = new Placeholders();
    const clauses = renderChanges(
      {
        name: 'n',
        quantity: decrement(2),
        hits: increment(1),
        gone: remove(),
        createdAt: setIfNotExists(1),
        tags: append(['a']),
      },
      p,
    );
    expect(updateExpression(clauses)).toBe(
      'SET #n0 = :v0, #n1 = if_not_exists(#n1, :v1) + :v2, #n2 = if_not_exists(#n2, :v3) + :v4, ' +
        '#n4 = if_not_exists(#n4, :v5), #n5 = list_append(if_not_exists(#n5, :v6), :v7) REMOVE #n3',
    );
    expect(p.attributes().ExpressionAttributeValues).toEqual({
      ':v0': 'n',
      ':v1': 0,
      ':v2': -2,
      ':v3': 0,
      ':v4': 1,
      ':v5': 1,
      ':v6': [],
      ':v7': ['a'],
    });
  });

  it('rejects undefined and non-finite values, naming the attribute', () => {
    expect(() => renderChanges({ a: undefined }, new Placeholders())).toThrow(
      /changes.a: is undefined; use remove\(\)/,
    );
    expect(() => renderChanges({ a: Number.NaN }, new Placeholders())).toThrow(/changes.a/);
    expect(() => renderChanges({ a: increment(Number.POSITIVE_INFINITY) }, new Placeholders())).toThrow(/changes.a/);
  });
});
