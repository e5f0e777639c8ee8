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
  /** attribute name → its placeholder, so that a name used twice gets one placeholder. */
  readonly #placeholderOf = new Map<string, string>();
  /** The request's maps, filled as placeholders are handed out: building them at the end cost more than the rest. */
  readonly #names: Record<string, string> = {};
  readonly #values: Record<string, unknown> = {};
  #valueCount = 0;
  /** Fixed name maps already merged (a table's register is used by both expressions of a request). */
  readonly #fixedNames: Array<Readonly<Record<string, string>>> = [];

  /** The placeholder for an attribute name; the same name always gets the same placeholder. */
  name(attribute: string): string {
    let placeholder = this.#placeholderOf.get(attribute);
    if (placeholder === undefined) {
      placeholder = `#n${this.#placeholderOf.size}`;
      this.#placeholderOf.set(attribute, placeholder);
      this.#names[placeholder] = attribute;
    }
    return placeholder;
  }

  /** A fresh placeholder for a value. */
  value(value: unknown): string {
    const placeholder = `:v${this.#valueCount}`;
    this.#values[placeholder] = value;
    this.#valueCount += 1;
    return placeholder;
  }

  /**
   * Adds placeholders with fixed names (such as `#rs0` → `_rsToken0`), for expression text that is rendered once and
   * reused. Fixed names must not look like the generated ones (`#n…`, `:v…`).
   */
  fixed(names: Readonly<Record<string, string>>, values: Readonly<Record<string, unknown>>): void {
    if (!this.#fixedNames.includes(names)) {
      this.#fixedNames.push(names);
      Object.assign(this.#names, names);
    }
    Object.assign(this.#values, values);
  }

  /**
   * The collected maps, once every expression of the request is rendered; empty maps are left out, because DynamoDB
   * rejects an empty ExpressionAttributeValues.
   */
  attributes(): ExpressionAttributes {
    const attributes: ExpressionAttributes = {};
    if (!isEmpty(this.#names)) attributes.ExpressionAttributeNames = this.#names;
    if (!isEmpty(this.#values)) attributes.ExpressionAttributeValues = this.#values;
    return attributes;
  }
}

function isEmpty(record: object): boolean {
  for (const _ in record) return false;
  return true;
}
