/** @module `parse`: a schema with `safeParse` (zod, detected structurally) or any function, turned into a verdict. */

/** Anything with zod's `safeParse` shape. racesafe does not depend on zod; it only calls this method. */
export interface SafeParser<T> {
  safeParse(
    input: unknown,
  ): { readonly success: true; readonly data: T } | { readonly success: false; readonly error: unknown };
}

/** A parse function: returns the event, or throws to mark the record poison. */
export type ParseFunction<T, Raw> = (payload: unknown, raw: Raw) => T | Promise<T>;

/** What `parse` accepts. */
export type Parser<T, Raw> = SafeParser<T> | ParseFunction<T, Raw>;

/** The parsed event, or why the record is invalid. */
export type Parsed<T> = { readonly ok: true; readonly event: T } | { readonly ok: false; readonly reason: string };

/** Whether `value` can serve as `parse`. */
export function isParser(value: unknown): boolean {
  return typeof value === 'function' || isSafeParser(value);
}

function isSafeParser(value: unknown): value is SafeParser<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { safeParse?: unknown }).safeParse === 'function'
  );
}

/** Runs the parser on a decoded payload. */
export async function runParser<T, Raw>(parser: Parser<T, Raw>, payload: unknown, raw: Raw): Promise<Parsed<T>> {
  if (isSafeParser(parser)) {
    try {
      const result = parser.safeParse(payload);
      return result.success ? { ok: true, event: result.data } : { ok: false, reason: describeIssues(result.error) };
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

/** zod's issues as `path: message; …`; anything else as its message. */
function describeIssues(error: unknown): string {
  const issues = (error as { issues?: unknown } | undefined)?.issues;
  if (!Array.isArray(issues) || issues.length === 0) return messageOf(error);
  return issues
    .map((issue: { path?: readonly PropertyKey[]; message?: string }) => {
      const path = (issue.path ?? []).map(String).join('.');
      return path === '' ? String(issue.message) : `${path}: ${String(issue.message)}`;
    })
    .join('; ');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
