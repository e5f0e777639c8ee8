/** @module Collects expression placeholders, so that no attribute name or user value ever becomes expression text. */

/** The placeholder maps of a request, ready to spread into a DocumentClient command input. */
export interface ExpressionAttributes {
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}

/**
 * Hands out `#n0`, `#n1`, … for attribute names and `:v0`, `:v1`, … for values, one builder per request. Names are
 * literal top-level attribute names: `a.b` is the attribute called "a.b", not a path, and reserved words such as
 * `status` need no special care.
 */
export class Placeholders {
  readonly #names = new Map<string, string>();
  readonly #values = new Map<string, unknown>();
  readonly #fixedNames = new Map<string, string>();
  readonly #fixedValues = new Map<string, unknown>();

  /** The placeholder for an attribute name; the same name always gets the same placeholder. */
  name(attribute: string): string {
    let placeholder = this.#names.get(attribute);
    if (placeholder === undefined) {
      placeholder = `#n${this.#names.size}`;
      this.#names.set(attribute, placeholder);
    }
    return placeholder;
  }

  /** A fresh placeholder for a value. */
  value(value: unknown): string {
    const placeholder = `:v${this.#values.size}`;
    this.#values.set(placeholder, value);
    return placeholder;
  }

  /**
   * Adds placeholders with fixed names (such as `#rs0` → `_rsToken0`), for expression text that is rendered once and
   * reused. Fixed names must not look like the generated ones (`#n…`, `:v…`).
   */
  fixed(names: Readonly<Record<string, string>>, values: Readonly<Record<string, unknown>>): void {
    for (const [placeholder, name] of Object.entries(names)) this.#fixedNames.set(placeholder, name);
    for (const [placeholder, value] of Object.entries(values)) this.#fixedValues.set(placeholder, value);
  }

  /** The collected maps; empty maps are left out, because DynamoDB rejects an empty ExpressionAttributeValues. */
  attributes(): ExpressionAttributes {
    const out: ExpressionAttributes = {};
    if (this.#names.size > 0 || this.#fixedNames.size > 0) {
      out.ExpressionAttributeNames = {
        ...Object.fromEntries([...this.#names].map(([name, ph]) => [ph, name])),
        ...Object.fromEntries(this.#fixedNames),
      };
    }
    if (this.#values.size > 0 || this.#fixedValues.size > 0) {
      out.ExpressionAttributeValues = { ...Object.fromEntries(this.#values), ...Object.fromEntries(this.#fixedValues) };
    }
    return out;
  }
}
