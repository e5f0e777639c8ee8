/** @module `parse`: any Standard Schema validator (zod, valibot, arktype), a `safeParse` schema or a function, turned into a verdict. */

/**
 * The part of the Standard Schema interface (https://standardschema.dev, v1) that racesafe calls: zod (3.24+),
 * valibot (1.0+), arktype (2.0+) and others implement it. Declared here, as the spec invites, so that racesafe's
 * published types need no schema package.
 */
export interface StandardSchema<T> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<T> | Promise<StandardResult<T>>;
    readonly types?: { readonly input: unknown; readonly output: T } | undefined;
  };
}

/** A Standard Schema verdict: a value, or issues. */
export type StandardResult<T> =
  | { readonly value: T; readonly issues?: undefined }
  | {
      readonly issues: ReadonlyArray<{
        readonly message: string;
        readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
      }>;
    };

/** Anything with zod's `safeParse` shape (zod before 3.24 has no Standard Schema). racesafe only calls this method. */
export interface SafeParser<T> {
  safeParse(
    input: unknown,
  ): { readonly success: true; readonly data: T } | { readonly success: false; readonly error: unknown };
}

/** A parse function: returns the event, or throws to mark the record poison. */
export type ParseFunction<T, Raw> = (payload: unknown, raw: Raw) => T | Promise<T>;

/** What `parse` accepts. */
export type Parser<T, Raw> = StandardSchema<T> | SafeParser<T> | ParseFunction<T, Raw>;

/** The parsed event, or why the record is invalid. */
export type Parsed<T> = { readonly ok: true; readonly event: T } | { readonly ok: false; readonly reason: string };

/** Whether `value` can serve as `parse`. */
export function isParser(value: unknown): boolean {
  return typeof value === 'function' || isStandardSchema(value) || isSafeParser(value);
}

function isStandardSchema(value: unknown): value is StandardSchema<unknown> {
  // arktype's types are functions carrying `~standard`; zod's and valibot's are objects.
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  const standard = (value as { '~standard'?: { validate?: unknown } })['~standard'];
  return typeof standard === 'object' && standard !== null && typeof standard.validate === 'function';
}

function isSafeParser(value: unknown): value is SafeParser<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { safeParse?: unknown }).safeParse === 'function'
  );
}

/** Runs the parser on a decoded payload. */
export async function runParser<T, Raw>(parser: Parser<T, Raw>, payload: unknown, raw: Raw): Promise<Parsed<T>> {
  // Standard Schema first: a zod 4 schema has both, and only `validate` also runs async refinements.
  if (isStandardSchema(parser)) {
    try {
      const result = await (parser as StandardSchema<T>)['~standard'].validate(payload);
      return result.issues === undefined
        ? { ok: true, event: result.value }
        : { ok: false, reason: describeIssues(result.issues) };
    } catch (error) {
      return { ok: false, reason: `parse threw: ${messageOf(error)}` };
    }
  }
  if (isSafeParser(parser)) {
    try {
      const result = (parser as SafeParser<T>).safeParse(payload);
      return result.success
        ? { ok: true, event: result.data }
        : {
            ok: false,
            reason: describeIssues((result.error as { issues?: unknown } | undefined)?.issues, result.error),
          };
    } catch (error) {
      // zod throws from safeParse when the schema has async parts: a programming error, surfaced as the reason.
      return { ok: false, reason: `parse threw: ${messageOf(error)}` };
    }
  }
  try {
    return { ok: true, event: await (parser as ParseFunction<T, Raw>)(payload, raw) };
  } catch (error) {
    return { ok: false, reason: messageOf(error) };
  }
}

/** Issues as `path: message; …` (a Standard Schema path segment is a key or `{ key }`); else the error's message. */
function describeIssues(issues: unknown, error?: unknown): string {
  if (!Array.isArray(issues) || issues.length === 0) return messageOf(error ?? 'invalid');
  return issues
    .map((issue: { path?: ReadonlyArray<PropertyKey | { key: PropertyKey }>; message?: string }) => {
      const path = (issue.path ?? [])
        .map((segment) => String(typeof segment === 'object' && segment !== null ? segment.key : segment))
        .join('.');
      return path === '' ? String(issue.message) : `${path}: ${String(issue.message)}`;
    })
    .join('; ');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
