import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { isParser, runParser, type StandardSchema } from './parse.js';
import { kinesisHandler } from './sources/kinesis.js';

const Reading = z.object({ key: z.string(), version: z.number().int().positive(), temperature: z.number() });

describe('runParser', () => {
  it('uses a zod schema through safeParse and returns its output', async () => {
    const parsed = await runParser(Reading, { key: 'a', version: 2, temperature: 20, extra: true }, null);
    expect(parsed).toEqual({ ok: true, event: { key: 'a', version: 2, temperature: 20 } });
  });

  it("reports a zod schema's issues with their paths", async () => {
    const parsed = await runParser(Reading, { key: 'a', version: 1.5 }, null);
    expect(parsed.ok).toBe(false);
    const reason = parsed.ok ? '' : parsed.reason;
    expect(reason).toMatch(/^version: /);
    expect(reason).toMatch(/temperature: /);
  });

  it('uses any Standard Schema validator, with its issues and paths (segments as keys or { key })', async () => {
    // A validator that only speaks Standard Schema (as valibot and arktype do), with an async validate.
    const positive: StandardSchema<number> = {
      '~standard': {
        version: 1,
        vendor: 'hand-made',
        validate: async (value) =>
          typeof value === 'number' && value > 0
            ? { value: value * 10 }
            : { issues: [{ message: 'must be positive', path: [{ key: 'reading' }, 'value'] }] },
      },
    };
    expect(await runParser(positive, 4, null)).toEqual({ ok: true, event: 40 });
    expect(await runParser(positive, -1, null)).toEqual({ ok: false, reason: 'reading.value: must be positive' });
    const thrower: StandardSchema<number> = {
      '~standard': {
        version: 1,
        vendor: 'hand-made',
        validate: () => {
          throw new Error('boom');
        },
      },
    };
    expect(await runParser(thrower, 1, null)).toEqual({ ok: false, reason: 'parse threw: boom' });
    expect(isParser(positive)).toBe(true);
    expect(isParser(Object.assign(() => 1, { '~standard': positive['~standard'] }))).toBe(true);
  });

  it("uses zod's Standard Schema face, so async refinements work where safeParse would throw", async () => {
    const Later = z.string().refine(async (value) => value.startsWith('d'), 'must start with d');
    expect(await runParser(Later, 'device', null)).toEqual({ ok: true, event: 'device' });
    expect(await runParser(Later, 'x', null)).toEqual({ ok: false, reason: 'must start with d' });
    // Only `safeParse` (zod before 3.24): still accepted.
    expect(await runParser({ safeParse: Later.safeParse.bind(Later) }, 'x', null)).toMatchObject({ ok: false });
  });

  it('infers the event type from a Standard Schema', () => {
    const schema: StandardSchema<{ id: string }> = {
      '~standard': { version: 1, vendor: 'hand-made', validate: () => ({ value: { id: 'a' } }) },
    };
    kinesisHandler({
      parse: schema,
      handle: (event) => {
        expectTypeOf(event).toEqualTypeOf<{ id: string }>();
      },
    });
  });

  it('uses a function, sync or async, and turns what it throws into the reason', async () => {
    expect(await runParser((payload) => ({ wrapped: payload }), 1, null)).toEqual({ ok: true, event: { wrapped: 1 } });
    expect(await runParser(async () => 'later', 1, null)).toEqual({ ok: true, event: 'later' });
    const refuse = () => {
      throw new Error('no temperature');
    };
    expect(await runParser(refuse, 1, null)).toEqual({ ok: false, reason: 'no temperature' });
  });

  it('passes the raw record to a parse function', async () => {
    const raw = { messageId: 'm1' };
    expect(await runParser((_payload, record: typeof raw) => record.messageId, {}, raw)).toEqual({
      ok: true,
      event: 'm1',
    });
  });

  it('recognises schemas structurally, without depending on zod', () => {
    expect(isParser(Reading)).toBe(true);
    expect(isParser({ safeParse: () => ({ success: true, data: 1 }) })).toBe(true);
    expect(isParser(() => 1)).toBe(true);
    expect(isParser({ parse: () => 1 })).toBe(false);
    expect(isParser(null)).toBe(false);
  });

  it("infers the handler's event type from a zod schema", () => {
    kinesisHandler({
      parse: Reading,
      handle: (event) => {
        expectTypeOf(event).toEqualTypeOf<{ key: string; version: number; temperature: number }>();
      },
    });
  });
});
