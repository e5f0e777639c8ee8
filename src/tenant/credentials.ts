/** @module Per-tenant DynamoDB clients: STS AssumeRole sessions confined by session tags or a session policy, cached, refreshed, bounded. */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, type TranslateConfig } from '@aws-sdk/lib-dynamodb';
import { invalidOption, rejectUnknownOptions } from '../errors.js';
import { tenantSessionPolicy } from './policy.js';
import { checkTenantId, type TenantKeyOptions } from './tenant-id.js';

/**
 * Credentials as the AWS SDK v3 takes them: the shape of its `AwsCredentialIdentity`, declared here so that racesafe's
 * published types need no SDK types package.
 */
interface AwsCredentialIdentity {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** A source of credentials the SDK calls before signing, as its `AwsCredentialIdentityProvider`. */
type AwsCredentialIdentityProvider = () => Promise<AwsCredentialIdentity>;

/** What one tenant's AssumeRole sends (the STS AssumeRole parameters racesafe sets). */
export interface TenantAssumeRoleParams {
  readonly RoleArn: string;
  readonly RoleSessionName: string;
  readonly DurationSeconds: number;
  /** Mode `sessionTags`: the tenant tag, which the tenant role's policy reads as `aws:PrincipalTag/<tagKey>`. */
  readonly Tags?: readonly { readonly Key: string; readonly Value: string }[];
  /** Mode `sessionPolicy`: {@link tenantSessionPolicy} as JSON. */
  readonly Policy?: string;
}

export interface TenantClientsOptions {
  /** The tenant-access role (see `tenantPolicies`). */
  readonly roleArn: string;
  /** How each session is confined; must match the role's policies (`tenantPolicies`' mode). @default 'sessionTags' */
  readonly mode?: 'sessionTags' | 'sessionPolicy';
  /** The session tag carrying the tenant id. @default 'tenant' */
  readonly tagKey?: string;
  /** The tables' ARNs, for the session policy (required in mode `sessionPolicy`). @default none */
  readonly tableArns?: readonly string[];
  /** How partition keys are prefixed; must match the scopes'. @default { label: 'TENANT', separator: '#' } */
  readonly keys?: TenantKeyOptions;
  /** Session length, 900 to 43200 seconds (the role's maximum session duration bounds it). @default 900 */
  readonly durationSeconds?: number;
  /** Refresh a tenant's credentials this long before they expire. @default 300000 (five minutes) */
  readonly refreshBeforeMs?: number;
  /** At most this many tenants' clients are kept; the least recently used is dropped (and destroyed) first. @default 50 */
  readonly maxTenants?: number;
  /** Configuration of each tenant's DynamoDBClient (region, endpoint, retries); its credentials are the tenant's. @default {} */
  readonly clientConfig?: Omit<DynamoDBClientConfig, 'credentials'>;
  /** The DocumentClient's marshalling options. @default { marshallOptions: { removeUndefinedValues: true } } */
  readonly translateConfig?: TranslateConfig;
  /**
   * Makes the credential provider of one session. @default `fromTemporaryCredentials({ params })` from
   * `@aws-sdk/credential-providers` (loaded when first needed, with the execution role's credentials as the master)
   */
  readonly assumeRole?: (params: TenantAssumeRoleParams) => AwsCredentialIdentityProvider;
  /** Epoch ms, for tests. @default Date.now */
  readonly now?: () => number;
}

const tenantClientsOptionNames: readonly (keyof TenantClientsOptions)[] = [
  'roleArn',
  'mode',
  'tagKey',
  'tableArns',
  'keys',
  'durationSeconds',
  'refreshBeforeMs',
  'maxTenants',
  'clientConfig',
  'translateConfig',
  'assumeRole',
  'now',
];

/** DynamoDB clients that act with each tenant's own credentials. */
export interface TenantClients {
  /** The tenant's client: created on first use, then cached. */
  clientFor(tenantId: string): DynamoDBDocumentClient;
  /** The AssumeRole parameters of a tenant's session (pure). */
  assumeRoleParams(tenantId: string): TenantAssumeRoleParams;
  /** How many tenants' clients are cached. */
  readonly size: number;
}

interface Settings {
  readonly roleArn: string;
  readonly mode: 'sessionTags' | 'sessionPolicy';
  readonly tagKey: string;
  readonly tableArns: readonly string[];
  readonly keys: TenantKeyOptions | undefined;
  readonly durationSeconds: number;
}

/** The AssumeRole parameters of one tenant's session (pure). */
export function buildAssumeRoleParams(tenantId: string, settings: Settings): TenantAssumeRoleParams {
  checkTenantId(tenantId);
  // Tenant ids use only characters valid in a role session name, which CloudTrail then shows.
  const base = {
    RoleArn: settings.roleArn,
    RoleSessionName: `tenant-${tenantId}`,
    DurationSeconds: settings.durationSeconds,
  };
  if (settings.mode === 'sessionTags') return { ...base, Tags: [{ Key: settings.tagKey, Value: tenantId }] };
  const policy = tenantSessionPolicy(tenantId, {
    tableArns: settings.tableArns,
    ...(settings.keys === undefined ? {} : { keys: settings.keys }),
  });
  const Policy = JSON.stringify(policy);
  // STS limits a packed session policy to 2,048 characters; failing here names the reason.
  if (Policy.length > 2048)
    throw invalidOption('tableArns', `the session policy is ${Policy.length} characters; STS allows 2048`);
  return { ...base, Policy };
}

/**
 * A credential provider that asks again `refreshBeforeMs` before the credentials expire, so no request is signed
 * with credentials about to lapse; concurrent callers share one refresh.
 */
export function refreshingCredentials(
  provider: AwsCredentialIdentityProvider,
  refreshBeforeMs: number,
  now: () => number,
): AwsCredentialIdentityProvider {
  let current: AwsCredentialIdentity | undefined;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  return async () => {
    const fresh = current?.expiration === undefined || current.expiration.getTime() - refreshBeforeMs > now();
    if (current !== undefined && fresh) return current;
    pending ??= Promise.resolve(provider()).then(
      (credentials) => {
        current = credentials;
        pending = undefined;
        return credentials;
      },
      (error: unknown) => {
        pending = undefined;
        throw error;
      },
    );
    return pending;
  };
}

/**
 * Per-tenant DynamoDB clients whose credentials come from an STS session for that tenant, confined by a session tag
 * (the tenant role's policy allows only `TENANT#${aws:PrincipalTag/tenant}#*` leading keys) or by a session policy.
 * Even a bug that builds another tenant's key is then refused by DynamoDB itself (AccessDeniedException).
 *
 * @example
 * ```ts
 * import { tenantClients } from 'racesafe/tenant';
 *
 * const clients = tenantClients({
 *   roleArn: 'arn:aws:iam::123456789012:role/orders-tenant-access',
 *   clientConfig: { region: 'eu-west-1' },
 * });
 * const blue = clients.clientFor('blue'); // a DynamoDBDocumentClient acting as tenant blue
 * ```
 */
export function tenantClients(options: TenantClientsOptions): TenantClients {
  rejectUnknownOptions(options, tenantClientsOptionNames, 'tenantClients');
  if (typeof options.roleArn !== 'string' || !/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(options.roleArn)) {
    throw invalidOption('roleArn', 'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)');
  }
  const mode = options.mode ?? 'sessionTags';
  if (mode !== 'sessionTags' && mode !== 'sessionPolicy')
    throw invalidOption('mode', "must be 'sessionTags' or 'sessionPolicy'");
  const tableArns = options.tableArns ?? [];
  if (mode === 'sessionPolicy' && tableArns.length === 0) {
    throw invalidOption('tableArns', "is required in mode 'sessionPolicy' (the session policy names the tables)");
  }
  const durationSeconds = options.durationSeconds ?? 900;
  if (!Number.isSafeInteger(durationSeconds) || durationSeconds < 900 || durationSeconds > 43_200) {
    throw invalidOption('durationSeconds', 'must be a whole number of seconds from 900 to 43200');
  }
  const refreshBeforeMs = options.refreshBeforeMs ?? 300_000;
  if (!Number.isSafeInteger(refreshBeforeMs) || refreshBeforeMs < 0 || refreshBeforeMs >= durationSeconds * 1000) {
    throw invalidOption('refreshBeforeMs', 'must be a whole number of ms from 0 to less than the session length');
  }
  const maxTenants = options.maxTenants ?? 50;
  if (!Number.isSafeInteger(maxTenants) || maxTenants < 1)
    throw invalidOption('maxTenants', 'must be a whole number >= 1');
  const settings: Settings = {
    roleArn: options.roleArn,
    mode,
    tagKey: options.tagKey ?? 'tenant',
    tableArns,
    keys: options.keys,
    durationSeconds,
  };
  const now = options.now ?? Date.now;
  const assumeRole = options.assumeRole ?? defaultAssumeRole;
  const translateConfig = options.translateConfig ?? { marshallOptions: { removeUndefinedValues: true } };
  // Insertion order is recency order: a hit is moved to the end, the first entry is the least recently used.
  const clients = new Map<string, { readonly dynamodb: DynamoDBClient; readonly client: DynamoDBDocumentClient }>();
  return {
    assumeRoleParams: (tenantId) => buildAssumeRoleParams(tenantId, settings),
    get size() {
      return clients.size;
    },
    clientFor(tenantId) {
      const hit = clients.get(tenantId);
      if (hit !== undefined) {
        clients.delete(tenantId);
        clients.set(tenantId, hit);
        return hit.client;
      }
      const params = buildAssumeRoleParams(tenantId, settings);
      const credentials = refreshingCredentials(assumeRole(params), refreshBeforeMs, now);
      const dynamodb = new DynamoDBClient({ ...options.clientConfig, credentials });
      const entry = { dynamodb, client: DynamoDBDocumentClient.from(dynamodb, translateConfig) };
      clients.set(tenantId, entry);
      if (clients.size > maxTenants) {
        const [oldest] = clients;
        if (oldest !== undefined) {
          clients.delete(oldest[0]);
          oldest[1].dynamodb.destroy(); // ours: created here, never handed to the caller as their own
        }
      }
      return entry.client;
    },
  };
}

/** `fromTemporaryCredentials`, loaded on first use so that `racesafe/tenant` does not need the package to load. */
function defaultAssumeRole(params: TenantAssumeRoleParams): AwsCredentialIdentityProvider {
  let provider: Promise<AwsCredentialIdentityProvider> | undefined;
  return async () => {
    provider ??= import('@aws-sdk/credential-providers').then(({ fromTemporaryCredentials }) =>
      fromTemporaryCredentials({
        params: {
          RoleArn: params.RoleArn,
          RoleSessionName: params.RoleSessionName,
          DurationSeconds: params.DurationSeconds,
          ...(params.Tags === undefined ? {} : { Tags: params.Tags.map((tag) => ({ ...tag })) }),
          ...(params.Policy === undefined ? {} : { Policy: params.Policy }),
        },
      }),
    );
    return (await provider)();
  };
}
