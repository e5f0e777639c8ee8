import { Readable } from 'node:stream';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { RacesafeError } from '../errors.js';
import {
  buildAssumeRoleParams,
  refreshingCredentials,
  type TenantAssumeRoleParams,
  tenantClients,
} from './credentials.js';

const roleArn = 'arn:aws:iam::123456789012:role/orders-tenant-access';
const tableArns = ['arn:aws:dynamodb:eu-west-1:123456789012:table/orders'];
const settings = {
  roleArn,
  mode: 'sessionTags' as const,
  tagKey: 'tenant',
  tableArns,
  keys: undefined,
  durationSeconds: 900,
};

interface SentRequest {
  readonly headers: Record<string, string>;
  readonly body?: unknown;
}

/** A request handler standing in for the network (the client boundary): records each request, answers `body`. */
function fakeHandler(body: () => string) {
  const requests: SentRequest[] = [];
  return {
    requests,
    handler: {
      handle: async (request: SentRequest) => {
        requests.push(request);
        return { response: { statusCode: 200, headers: {}, body: Readable.from([Buffer.from(body())]) } };
      },
    },
  };
}

const assumeRoleResponse = (
  key: string,
  expiration: string,
) => `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult><Credentials><AccessKeyId>${key}</AccessKeyId><SecretAccessKey>secret</SecretAccessKey>
  <SessionToken>token-${key}</SessionToken><Expiration>${expiration}</Expiration></Credentials>
  <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/orders-tenant-access/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>
  </AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`;

describe('AssumeRole parameters per tenant', () => {
  it('session tags: the tenant tag; session policy: the tenant-only policy as JSON', () => {
    expect(buildAssumeRoleParams('blue', settings)).toEqual({
      RoleArn: roleArn,
      RoleSessionName: 'tenant-blue',
      DurationSeconds: 900,
      Tags: [{ Key: 'tenant', Value: 'blue' }],
    });
    const withPolicy = buildAssumeRoleParams('blue', { ...settings, mode: 'sessionPolicy' });
    expect(withPolicy.Tags).toBeUndefined();
    expect(withPolicy.Policy).toContain('"TENANT#blue#*"');
    expect(() => buildAssumeRoleParams('blue#green', settings)).toThrow(RacesafeError);
  });

  it('a session policy over STS size limit is refused with the reason', () => {
    const many = Array.from({ length: 40 }, (_, i) => `arn:aws:dynamodb:eu-west-1:123456789012:table/orders-${i}`);
    expect(() => buildAssumeRoleParams('blue', { ...settings, mode: 'sessionPolicy', tableArns: many })).toThrow(
      /2048/,
    );
  });
});

describe('refreshingCredentials', () => {
  it('serves cached credentials, refreshes before expiry, and shares one refresh among concurrent callers', async () => {
    let now = 0;
    let calls = 0;
    const provider = async () => {
      calls += 1;
      return { accessKeyId: `key-${calls}`, secretAccessKey: 's', expiration: new Date(now + 900_000) };
    };
    const credentials = refreshingCredentials(provider, 300_000, () => now);
    const [a, b] = await Promise.all([credentials(), credentials()]);
    expect([a.accessKeyId, b.accessKeyId, calls]).toEqual(['key-1', 'key-1', 1]);
    now = 599_999; // 300,001 ms before expiry: still fresh
    expect((await credentials()).accessKeyId).toBe('key-1');
    now = 600_000; // five minutes before expiry: refreshed
    expect((await credentials()).accessKeyId).toBe('key-2');
  });
});

describe('tenantClients', () => {
  it('one client per tenant, cached, bounded: the least recently used is dropped first', () => {
    const made: string[] = [];
    const clients = tenantClients({
      roleArn,
      maxTenants: 2,
      clientConfig: { region: 'eu-west-1' },
      assumeRole: (params) => {
        made.push(params.RoleSessionName);
        return async () => ({ accessKeyId: 'a', secretAccessKey: 's' });
      },
    });
    const blue = clients.clientFor('blue');
    expect(clients.clientFor('blue')).toBe(blue);
    clients.clientFor('green');
    clients.clientFor('blue'); // blue is now the most recently used
    clients.clientFor('red'); // drops green
    expect(clients.size).toBe(2);
    expect(clients.clientFor('blue')).toBe(blue);
    clients.clientFor('green');
    expect(made).toEqual(['tenant-blue', 'tenant-green', 'tenant-red', 'tenant-green']);
  });

  it('names a bad option', () => {
    const field = (options: object) => {
      try {
        tenantClients({ roleArn, ...options });
      } catch (error) {
        return error instanceof RacesafeError ? (error.details as { field: string }).field : 'other';
      }
      return 'none';
    };
    expect(field({ roleArn: 'x' })).toBe('roleArn');
    expect(field({ mode: 'sessionPolicy' })).toBe('tableArns');
    expect(field({ durationSeconds: 60 })).toBe('durationSeconds');
    expect(field({ maxTenants: 0 })).toBe('maxTenants');
    expect(field({ region: 'eu-west-1' })).toBe('tenantClients.region');
  });

  it("through the SDK's own fromTemporaryCredentials: AssumeRole carries the tenant tag, DynamoDB requests are signed with the tenant's session", async () => {
    const sts = fakeHandler(() => assumeRoleResponse('ASIABLUE', '2099-01-01T00:00:00Z'));
    const dynamodb = fakeHandler(() => '{"Item":{"pk":{"S":"TENANT#blue#o-1"}}}');
    const sent: TenantAssumeRoleParams[] = [];
    const clients = tenantClients({
      roleArn,
      clientConfig: { region: 'eu-west-1', requestHandler: dynamodb.handler },
      assumeRole: (params) => {
        sent.push(params);
        return fromTemporaryCredentials({
          params: { ...params, Tags: params.Tags?.map((tag) => ({ ...tag })) },
          masterCredentials: { accessKeyId: 'AKIAEXECUTIONROLE', secretAccessKey: 's' },
          clientConfig: { region: 'eu-west-1', requestHandler: sts.handler },
        });
      },
    });
    const result = await clients
      .clientFor('blue')
      .send(new GetCommand({ TableName: 'orders', Key: { pk: 'TENANT#blue#o-1' } }));
    expect(result.Item).toEqual({ pk: 'TENANT#blue#o-1' });
    const assume = new URLSearchParams(String(sts.requests[0]?.body));
    expect(Object.fromEntries(assume)).toMatchObject({
      Action: 'AssumeRole',
      RoleArn: roleArn,
      RoleSessionName: 'tenant-blue',
      'Tags.member.1.Key': 'tenant',
      'Tags.member.1.Value': 'blue',
    });
    expect(String(dynamodb.requests[0]?.headers.authorization)).toContain('Credential=ASIABLUE/');
    expect(dynamodb.requests[0]?.headers['x-amz-security-token']).toBe('token-ASIABLUE');
    expect(sent).toHaveLength(1);
  });

  it('mode sessionPolicy: AssumeRole carries the tenant-only session policy and no tags', async () => {
    const sts = fakeHandler(() => assumeRoleResponse('ASIAGREEN', '2099-01-01T00:00:00Z'));
    const dynamodb = fakeHandler(() => '{}');
    const clients = tenantClients({
      roleArn,
      mode: 'sessionPolicy',
      tableArns,
      clientConfig: { region: 'eu-west-1', requestHandler: dynamodb.handler },
      assumeRole: (params) =>
        fromTemporaryCredentials({
          params: { ...params, Tags: params.Tags?.map((tag) => ({ ...tag })) },
          masterCredentials: { accessKeyId: 'AKIAEXECUTIONROLE', secretAccessKey: 's' },
          clientConfig: { region: 'eu-west-1', requestHandler: sts.handler },
        }),
    });
    await clients.clientFor('green').send(new GetCommand({ TableName: 'orders', Key: { pk: 'TENANT#green#o-1' } }));
    const assume = Object.fromEntries(new URLSearchParams(String(sts.requests[0]?.body)));
    expect(assume['Tags.member.1.Key']).toBeUndefined();
    expect(JSON.parse(String(assume.Policy))).toEqual(JSON.parse(String(clients.assumeRoleParams('green').Policy)));
    expect(String(assume.Policy)).toContain('TENANT#green#*');
    expect(String(dynamodb.requests[0]?.headers.authorization)).toContain('Credential=ASIAGREEN/');
  });
});
