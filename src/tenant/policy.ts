/** @module IAM policies for tenant isolation, as plain JSON (CDK, SAM, CloudFormation): LeadingKeys on every item action, no vacuous truth, no Scan. */
import { invalidOption, rejectUnknownOptions } from '../errors.js';
import { checkTenantId, type TenantKeyOptions, tenantKeyFormat, tenantPrefix } from './tenant-id.js';

/** One IAM policy statement, as JSON. */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: { readonly AWS: string | readonly string[] };
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

/** An IAM policy document, as JSON. */
export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly PolicyStatement[];
}

/**
 * The item actions racesafe sends (a TransactWriteItems is authorised as its Put/Update/Delete/ConditionCheck
 * actions, a TransactGetItems as GetItem). `dynamodb:LeadingKeys` constrains each of them.
 */
export const tenantItemActions = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:Query',
] as const;

export interface TenantPolicyOptions {
  /** The tables' ARNs (`arn:aws:dynamodb:<region>:<account>:table/<name>`); unresolved CDK tokens are passed through. */
  readonly tableArns: readonly string[];
  /** The role each tenant's session assumes (its permission policy is `tenantRolePermissions`). */
  readonly tenantRoleArn: string;
  /** The Lambda execution role, the only principal allowed to assume the tenant role. */
  readonly executionRoleArn: string;
  /**
   * `sessionTags`: the tenant role's own policy confines each session by its `tenant` tag
   * (`TENANT#${aws:PrincipalTag/tenant}#*`), so every session is confined even without a session policy.
   * `sessionPolicy`: the role allows any tenant's prefix, and each AssumeRole passes {@link tenantSessionPolicy};
   * the session may do only what both allow. @default 'sessionTags'
   */
  readonly mode?: 'sessionTags' | 'sessionPolicy';
  /** The session tag that carries the tenant id. @default 'tenant' */
  readonly tagKey?: string;
  /** How partition keys are prefixed; must match the scopes'. @default { label: 'TENANT', separator: '#' } */
  readonly keys?: TenantKeyOptions;
}

const tenantPolicyOptionNames: readonly (keyof TenantPolicyOptions)[] = [
  'tableArns',
  'tenantRoleArn',
  'executionRoleArn',
  'mode',
  'tagKey',
  'keys',
];

/**
 * Whether a string is (or holds) an unresolved CDK token (`${Token[…]}`): an ARN that CloudFormation resolves at
 * deploy time cannot be checked here, so it is passed through as it is.
 */
function isUnresolvedToken(value: string): boolean {
  return value.includes('${Token[');
}

/** The policies of tenant isolation: attach each where its name says. */
export interface TenantPolicies {
  /** A statement for the execution role's policy: assume (and tag) the tenant role. */
  readonly executionRoleStatement: PolicyStatement;
  /** The same statement as a whole document. */
  readonly executionRolePolicy: PolicyDocument;
  /** The tenant role's trust policy: only the execution role, and (sessionTags) only with the tenant tag. */
  readonly tenantRoleTrust: PolicyDocument;
  /** The tenant role's permission policy. */
  readonly tenantRolePermissions: PolicyDocument;
}

/**
 * The statements that confine item actions to keys matching `pattern`:
 * - Allow the item actions only when every leading key matches (`ForAllValues:StringLike`), at least one does
 *   (`ForAnyValue:StringLike`) and the key is there (`Null: false`): `ForAllValues` over an absent key or an empty set
 *   is vacuously true, so a request without leading keys would otherwise be allowed.
 * - Deny, explicitly, a request without leading keys (absent or empty) and one with any leading key outside the pattern
 *   (`ForAnyValue:StringNotLike`), so that no other policy on the role (a broad `dynamodb:*` grant) can reopen them.
 * - Deny every other action on the tables and everything under them (indexes, streams, exports, backups: Scan,
 *   PartiQL, GetRecords, …): LeadingKeys cannot constrain them.
 */
export function leadingKeyStatements(tableArns: readonly string[], pattern: string): PolicyStatement[] {
  const everything = [...tableArns, ...tableArns.map((arn) => `${arn}/*`)];
  return [
    {
      Sid: 'TenantItemsOnly',
      Effect: 'Allow',
      Action: [...tenantItemActions],
      Resource: [...tableArns],
      Condition: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [pattern] },
        'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [pattern] },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      },
    },
    // `dynamodb:*` rather than the item actions: the same effect (every other action is denied below), fewer
    // characters in a session policy, which STS limits to 2,048. "No leading key is like `*`" is vacuous truth used
    // on purpose: true for an absent key (what `Null: true` catches) and for an empty set (which `Null` does not).
    {
      Sid: 'DenyWithoutLeadingKeys',
      Effect: 'Deny',
      Action: 'dynamodb:*',
      Resource: everything,
      Condition: { 'ForAllValues:StringNotLike': { 'dynamodb:LeadingKeys': ['*'] } },
    },
    {
      Sid: 'DenyOtherLeadingKeys',
      Effect: 'Deny',
      Action: 'dynamodb:*',
      Resource: everything,
      Condition: { 'ForAnyValue:StringNotLike': { 'dynamodb:LeadingKeys': [pattern] } },
    },
    { Sid: 'DenyUnconstrainable', Effect: 'Deny', NotAction: [...tenantItemActions], Resource: everything },
  ];
}

/**
 * The policies for tenant isolation through per-tenant STS sessions.
 *
 * @example
 * ```ts
 * import { tenantPolicies } from 'racesafe/tenant';
 *
 * const policies = tenantPolicies({
 *   tableArns: ['arn:aws:dynamodb:eu-west-1:123456789012:table/orders'],
 *   tenantRoleArn: 'arn:aws:iam::123456789012:role/orders-tenant-access',
 *   executionRoleArn: 'arn:aws:iam::123456789012:role/orders-api',
 * });
 * const json = JSON.stringify(policies.tenantRolePermissions); // plain JSON for CDK, SAM or CloudFormation
 * ```
 */
export function tenantPolicies(options: TenantPolicyOptions): TenantPolicies {
  rejectUnknownOptions(options, tenantPolicyOptionNames, 'tenantPolicies');
  const { tableArns, tenantRoleArn, executionRoleArn } = options;
  if (!Array.isArray(tableArns) || tableArns.length === 0) {
    throw invalidOption('tableArns', 'must list at least one table ARN');
  }
  tableArns.forEach((arn, index) => {
    if (typeof arn === 'string' && isUnresolvedToken(arn)) return;
    if (
      typeof arn !== 'string' ||
      !/^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[A-Za-z0-9_.-]{3,255}$/.test(arn)
    ) {
      throw invalidOption(
        `tableArns[${index}]`,
        'must be a DynamoDB table ARN (arn:aws:dynamodb:<region>:<account>:table/<name>)',
      );
    }
  });
  for (const [field, arn] of [
    ['tenantRoleArn', tenantRoleArn],
    ['executionRoleArn', executionRoleArn],
  ] as const) {
    if (typeof arn === 'string' && isUnresolvedToken(arn)) continue;
    if (typeof arn !== 'string' || !/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(arn)) {
      throw invalidOption(field, 'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)');
    }
  }
  const mode = options.mode ?? 'sessionTags';
  if (mode !== 'sessionTags' && mode !== 'sessionPolicy') {
    throw invalidOption('mode', "must be 'sessionTags' or 'sessionPolicy'");
  }
  const tagKey = options.tagKey ?? 'tenant';
  if (typeof tagKey !== 'string' || !/^[A-Za-z0-9_.:/=+@-]{1,128}$/.test(tagKey)) {
    throw invalidOption('tagKey', 'must be a valid session tag key (1 to 128 letters, digits or _ . : / = + @ -)');
  }
  const { label, separator } = tenantKeyFormat(options.keys);
  const tagged = mode === 'sessionTags';
  const executionRoleStatement: PolicyStatement = {
    Sid: 'AssumeTenantAccessRole',
    Effect: 'Allow',
    Action: tagged ? ['sts:AssumeRole', 'sts:TagSession'] : ['sts:AssumeRole'],
    Resource: tenantRoleArn,
  };
  // With session tags, every session must carry the tenant tag and only that tag: an untagged session would match
  // no prefix, but requiring the tag makes the mistake fail at AssumeRole, where it is visible.
  const tagConditions = {
    Null: { [`aws:RequestTag/${tagKey}`]: 'false' },
    'ForAllValues:StringEquals': { 'aws:TagKeys': [tagKey] },
  };
  const tenantRoleTrust: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ExecutionRoleOnly',
        Effect: 'Allow',
        Principal: { AWS: executionRoleArn },
        Action: tagged ? ['sts:AssumeRole', 'sts:TagSession'] : ['sts:AssumeRole'],
        ...(tagged ? { Condition: tagConditions } : {}),
      },
    ],
  };
  const pattern = tagged
    ? `${label}${separator}\${aws:PrincipalTag/${tagKey}}${separator}*`
    : `${label}${separator}*${separator}*`;
  return {
    executionRoleStatement,
    executionRolePolicy: { Version: '2012-10-17', Statement: [executionRoleStatement] },
    tenantRoleTrust,
    tenantRolePermissions: {
      Version: '2012-10-17',
      Statement: [
        ...leadingKeyStatements(tableArns, pattern),
        // A session without the tag resolves no pattern, so the statements above neither allow nor deny: deny it
        // outright, so that another grant on the role cannot serve an untagged session.
        ...(tagged
          ? [
              {
                Sid: 'DenyUntaggedSessions',
                Effect: 'Deny',
                Action: 'dynamodb:*',
                Resource: [...tableArns, ...tableArns.map((arn) => `${arn}/*`)],
                Condition: { Null: { [`aws:PrincipalTag/${tagKey}`]: 'true' } },
              } as const,
            ]
          : []),
      ],
    },
  };
}

/**
 * The session policy of one tenant's session (mode `sessionPolicy`): its own prefix only. Pass it as AssumeRole's
 * `Policy`; the session may do what both it and the role's policy allow.
 *
 * @example
 * ```ts
 * import { tenantSessionPolicy } from 'racesafe/tenant';
 *
 * const policy = tenantSessionPolicy('blue', { tableArns: ['arn:aws:dynamodb:eu-west-1:123456789012:table/orders'] });
 * // Allow … when every dynamodb:LeadingKeys is like 'TENANT#blue#*'
 * ```
 */
export function tenantSessionPolicy(
  tenantId: string,
  options: { readonly tableArns: readonly string[]; readonly keys?: TenantKeyOptions },
): PolicyDocument {
  checkTenantId(tenantId);
  rejectUnknownOptions(options, ['tableArns', 'keys'], 'tenantSessionPolicy');
  if (!Array.isArray(options.tableArns) || options.tableArns.length === 0) {
    throw invalidOption('tableArns', 'must list at least one table ARN');
  }
  // Tenant ids hold no IAM wildcard (checkTenantId), so the prefix is a literal in the pattern.
  const pattern = `${tenantPrefix(tenantId, options.keys)}*`;
  // Only the Allow: a session policy can only narrow (the session may do what both it and the role's policies
  // allow), so the role's policy carries the denies, and the session policy stays within STS's 2,048 characters.
  const [allow] = leadingKeyStatements(options.tableArns, pattern);
  return { Version: '2012-10-17', Statement: [allow as PolicyStatement] };
}
