/** @module Recent write tokens kept on an item, so a write can recognise its own earlier attempt after a lost response. */
import { randomBytes } from 'node:crypto';
import type { Condition } from '../expression/condition.js';
import type { Placeholders } from '../expression/placeholders.js';
import type { Item, Table } from '../table.js';

/**
 * How many recent write tokens an item keeps: a shift register of attributes `<prefix>0` (newest) to `<prefix>15`.
 * A write whose response was lost is recognised as long as fewer than this many other writes landed before the SDK's
 * retry, which comes within milliseconds to seconds. A register of fixed attributes costs next to nothing per write,
 * where a growing list measured 20% of throughput on DynamoDB Local and needed extra requests to trim it.
 */
export const recentTokenCount = 16;

/** Fills a register slot that has no token yet. */
const noToken = '-';

/** The attribute of register slot `slot` (0 is the newest). */
export function tokenAttribute(table: Table, slot: number): string {
  return `${table.writeTokenAttribute}${slot}`;
}

/** The register's slot 0, where a write puts its own token. */
export function newestTokenAttribute(table: Table): string {
  return renderedRegister(table).attributes[0] as string;
}

/** Every register attribute, newest first. */
export function tokenAttributes(table: Table): readonly string[] {
  return renderedRegister(table).attributes;
}

/** True when `token` is one of the item's recent write tokens. */
export function holdsToken(table: Table, stored: Item, token: string): boolean {
  return tokenAttributes(table).some((attribute) => stored[attribute] === token);
}

/** The register's expression text, rendered once per table with fixed placeholders (`#rs0`…, `:rsTok`, `:rsNone`). */
interface RenderedRegister {
  readonly attributes: readonly string[];
  readonly names: Readonly<Record<string, string>>;
  readonly shift: readonly string[];
  readonly notMine: string;
}

const rendered = new WeakMap<Table, RenderedRegister>();

function renderedRegister(table: Table): RenderedRegister {
  let register = rendered.get(table);
  if (register === undefined) {
    const attributes = Array.from({ length: recentTokenCount }, (_, slot) => tokenAttribute(table, slot));
    const placeholders = attributes.map((_, slot) => `#rs${slot}`);
    const names = Object.fromEntries(attributes.map((attribute, slot) => [`#rs${slot}`, attribute]));
    const shift = placeholders
      .slice(1)
      .map((name, index) => `${name} = if_not_exists(${placeholders[index]}, :rsNone)`)
      .reverse();
    register = {
      attributes,
      names,
      // One pre-joined clause: every UpdateItem of racesafe carries all sixteen, so they are joined once per table.
      shift: [[...shift, `${placeholders[0]} = :rsTok`].join(', ')],
      notMine: `NOT (${placeholders.map((name) => `${name} = :rsTok`).join(' OR ')})`,
    };
    rendered.set(table, register);
  }
  return register;
}

/**
 * SET clauses that shift the register by one, server-side, and put `token` in slot 0 (pure). Every UpdateItem of
 * racesafe shifts, so no write erases the history another write's retry may need.
 */
export function shiftTokenClauses(table: Table, placeholders: Placeholders, token: string): readonly string[] {
  const register = renderedRegister(table);
  placeholders.fixed(register.names, { ':rsNone': noToken, ':rsTok': token });
  return register.shift;
}

/**
 * The register after a write of `token` over `stored`, computed by the writer (for whole-item puts). Empty slots stay
 * absent: a fresh put carries one token attribute, not sixteen.
 */
export function shiftedTokens(table: Table, stored: Item | undefined, token: string): Item {
  const attributes = tokenAttributes(table);
  const register: Item = { [attributes[0] as string]: token };
  if (stored === undefined) return register;
  for (let slot = 1; slot < attributes.length; slot++) {
    const previous = stored[attributes[slot - 1] as string];
    if (previous !== undefined) register[attributes[slot] as string] = previous;
  }
  return register;
}

/** "None of the recent tokens is this one": an SDK retry of a write that already landed fails this condition. */
export function notOurEarlierAttempt(table: Table, token: string): Condition {
  return (placeholders) => {
    const register = renderedRegister(table);
    placeholders.fixed(register.names, { ':rsNone': noToken, ':rsTok': token });
    return register.notMine;
  };
}

/**
 * A new write token: 96 random bits as 16 base64url characters, short because an item keeps sixteen of them and
 * DynamoDB bills writes by item size (1 KB per write capacity unit).
 */
export function newWriteToken(): string {
  // One system call per 256 tokens instead of one per write: the client is on the critical path of every request.
  if (poolOffset + tokenBytes > pool.length) {
    pool = randomBytes(tokenBytes * 256);
    poolOffset = 0;
  }
  const token = pool.toString('base64url', poolOffset, poolOffset + tokenBytes);
  poolOffset += tokenBytes;
  return token;
}

const tokenBytes = 12;
let pool = Buffer.alloc(0);
let poolOffset = 0;
