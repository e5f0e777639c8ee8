/** @module Tenant ids and the partition-key prefix that confines a tenant: validated so no tenant's prefix is a prefix of another's. */
import { invalidInput, invalidOption, RacesafeError, rejectUnknownOptions } from '../errors.js';

/** How a tenant's partition keys are prefixed: `<label><separator><tenantId><separator><your key>`. */
export interface TenantKeyOptions {
  /** The first part of every prefix. Letters, digits, `_` and `-`. @default 'TENANT' */
  readonly label?: string;
  /**
   * Ends the tenant id in the prefix. It may not occur in a tenant id, which is what makes `TENANT#blue#` unable to
   * match `TENANT#blue2#…` or `TENANT#a#b#…`. One character, none of IAM's wildcards or variable marks (`* ? $ { }`).
   * @default '#'
   */
  readonly separator?: string;
}

export const tenantKeyOptionNames: readonly (keyof TenantKeyOptions)[] = ['label', 'separator'];

/**
 * What a tenant id may hold: letters, digits and `_ . = + @ -`, 1 to 48 characters. Those are valid both in an STS
 * session tag value and in a role session name, and hold neither a separator nor an IAM wildcard (`*`, `?`) nor a
 * policy variable (`${…}`), so an id can be written into a `dynamodb:LeadingKeys` pattern as it is.
 */
export const tenantIdPattern = /^[A-Za-z0-9_.=+@-]{1,48}$/;

/** Validates a tenant id (see {@link tenantIdPattern}); `field` names it in the error. */
export function checkTenantId(tenantId: unknown, field = 'tenantId'): asserts tenantId is string {
  if (typeof tenantId !== 'string' || !tenantIdPattern.test(tenantId)) {
    throw invalidInput(
      field,
      'a tenant id has 1 to 48 letters, digits or _ . = + @ - (no separator, wildcard or policy variable)',
    );
  }
}

/** The prefix pieces, validated, with defaults applied (once, here). */
export function tenantKeyFormat(options: TenantKeyOptions = {}): Required<TenantKeyOptions> {
  rejectUnknownOptions(options, tenantKeyOptionNames, 'keys');
  const label = options.label ?? 'TENANT';
  const separator = options.separator ?? '#';
  if (typeof label !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(label)) {
    throw invalidOption('keys.label', 'must be 1 to 32 letters, digits, _ or -');
  }
  if (typeof separator !== 'string' || separator.length !== 1 || /[A-Za-z0-9_.=+@\-*?${}\s]/.test(separator)) {
    throw invalidOption(
      'keys.separator',
      'must be one character that cannot occur in a tenant id and is not * ? $ { } or whitespace',
    );
  }
  return { label, separator };
}

/** The partition-key prefix of one tenant, e.g. `TENANT#blue#`. */
export function tenantPrefix(tenantId: string, options: TenantKeyOptions = {}): string {
  checkTenantId(tenantId);
  const { label, separator } = tenantKeyFormat(options);
  return `${label}${separator}${tenantId}${separator}`;
}

/** Prefixes and strips one tenant's partition key values. */
export interface TenantKeyCodec {
  readonly tenantId: string;
  readonly prefix: string;
  /** The stored value of a partition key the caller gave. */
  scope(value: unknown, field: string): string;
  /** The caller's value of a stored partition key; refuses one that is not the tenant's. */
  unscope(value: unknown, field: string): string;
}

/**
 * The codec of one tenant's keys.
 *
 * @example
 * ```ts
 * import { tenantKeyCodec } from 'racesafe/tenant';
 *
 * const blue = tenantKeyCodec('blue');
 * blue.scope('order-1', 'Key.pk'); // 'TENANT#blue#order-1'
 * blue.unscope('TENANT#blue#order-1', 'Item.pk'); // 'order-1'
 * ```
 */
export function tenantKeyCodec(tenantId: string, options: TenantKeyOptions = {}): TenantKeyCodec {
  const prefix = tenantPrefix(tenantId, options);
  const { label, separator } = tenantKeyFormat(options);
  const anyTenant = `${label}${separator}`;
  return {
    tenantId,
    prefix,
    scope(value, field) {
      // The prefix goes on a string; a number or binary partition key cannot carry it.
      if (typeof value !== 'string' || value === '') {
        throw invalidInput(field, 'a tenant scope prefixes the partition key: it must be a non-empty string');
      }
      // A key that already carries a tenant prefix is a stored key (another tenant's, or this one's twice): refuse it
      // rather than nest it inside this tenant.
      if (value.startsWith(anyTenant)) {
        throw crossTenant(
          tenantId,
          field,
          `a key may not start with ${anyTenant}: callers pass their own keys, unprefixed`,
        );
      }
      return `${prefix}${value}`;
    },
    unscope(value, field) {
      if (typeof value !== 'string' || !value.startsWith(prefix)) {
        throw crossTenant(tenantId, field, `a stored key outside the tenant's prefix ${prefix} came back`);
      }
      return value.slice(prefix.length);
    },
  };
}

/** The `tenant.crossTenant` error. */
export function crossTenant(tenantId: string, field: string, rule: string): RacesafeError<'tenant.crossTenant'> {
  return new RacesafeError('tenant.crossTenant', `${field}: ${rule} (tenant ${tenantId})`, { tenantId, field, rule });
}
