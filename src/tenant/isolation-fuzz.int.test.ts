import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { freshTable, itWhen, useEngine } from '../../test/engine.js';
import { RacesafeError } from '../errors.js';
import { increment } from '../expression/update.js';
import type { Table } from '../table.js';
import { localClientConfig } from '../testing/dynamodb-engine.js';
import { type AccessRequest, enforceLeadingKeys } from '../testing/tenant-enforcer.js';
import { transaction } from '../transaction/builder.js';
import { deleteIfNotNewer } from '../write/delete-if-not-newer.js';
import { getCurrent } from '../write/get-current.js';
import { guardedUpdate } from '../write/guarded-update.js';
import { putIfNewer } from '../write/put-if-newer.js';
import { tenantPolicies } from './policy.js';
import { tenantScope } from './scope.js';

// @cloud-copilot/iam-simulate (AGPL-3.0) decides the policy layer: a dev dependency, used by tests only.

const engine = useEngine();
const account = '123456789012';
const arnOf = (name: string) => `arn:aws:dynamodb:eu-west-1:${account}:table/${name}`;
const greenKeys = Array.from({ length: 4 }, (_, i) => `k${i}`);

/** Tenant blue's session: the generated role policy, the `tenant` session tag, and IAM's decision by the evaluator. */
function blueSession(tableName: string) {
  const { tenantRolePermissions } = tenantPolicies({
    tableArns: [arnOf(tableName)],
    tenantRoleArn: `arn:aws:iam::${account}:role/tenant-access`,
    executionRoleArn: `arn:aws:iam::${account}:role/api`,
  });
  const asked: AccessRequest[] = [];
  const evaluator = async (request: AccessRequest) => {
    asked.push(request);
    const result = await runSimulation(
      {
        identityPolicies: [{ name: 'tenant-access', policy: structuredClone(tenantRolePermissions) as never }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        request: {
          action: request.action,
          principal: `arn:aws:sts::${account}:assumed-role/tenant-access/tenant-blue`,
          resource: { accountId: account, resource: request.resource },
          contextVariables: {
            'aws:PrincipalTag/tenant': 'blue',
            ...(request.leadingKeys === undefined ? {} : { 'dynamodb:LeadingKeys': [...request.leadingKeys] }),
          },
        },
      },
      {},
    );
    if (result.resultType === 'error') throw new Error(`the evaluator refused: ${JSON.stringify(result.errors)}`);
    return result.overallResult === 'Allowed';
  };
  const enforcer = enforceLeadingKeys({ tables: { [tableName]: { partitionKey: 'pk' } }, evaluator, tableArn: arnOf });
  const dynamodb = new DynamoDBClient({ ...localClientConfig, endpoint: engine.endpoint });
  const wire = { sent: 0 };
  dynamodb.middlewareStack.add(
    (next) => async (args) => {
      wire.sent += 1;
      return next(args);
    },
    { step: 'finalizeRequest', name: 'countWire' },
  );
  enforcer.attach(dynamodb);
  const client = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  return { client, enforcer, wire, asked };
}

async function greenSnapshot(name: string): Promise<string> {
  const { Items = [] } = await engine.client.send(new ScanCommand({ TableName: name, ConsistentRead: true }));
  const green = Items.filter((item) => String(item.pk).startsWith('TENANT#green#'));
  return JSON.stringify(green.sort((a, b) => String(a.pk).localeCompare(String(b.pk))));
}

async function setup(prefix: string) {
  const created = await freshTable(engine, { prefix, stream: false });
  for (const key of greenKeys) {
    await engine.client.send(
      new PutCommand({
        TableName: created.name,
        Item: { pk: `TENANT#green#${key}`, version: 1, secret: `green-${key}` },
      }),
    );
  }
  const session = blueSession(created.name);
  const table: Table = { ...created.table, client: session.client };
  return {
    ...session,
    name: created.name,
    blue: tenantScope(table, 'blue'),
    greenScope: tenantScope(created.table, 'green'),
  };
}

const leaksGreen = (value: unknown) => JSON.stringify(value ?? null).includes('green-');

describe("tenant blue at tenant green's data: random requests through blue's scope and credentials", () => {
  itWhen(['transactions', 'returnValuesOnConditionCheckFailure'])(
    "library layer: every attempt is refused or stays inside blue; none reads or changes green's data",
    async () => {
      const { blue, greenScope, name, enforcer } = await setup('fuzz-library');
      const before = await greenSnapshot(name);
      const target = fc.oneof(
        fc.constantFrom(...greenKeys.map((key) => `TENANT#green#${key}`)),
        fc.constantFrom('TENANT#blue2#k0', 'TENANT#blue#k0', 'TENANT#', 'TENANT#green'),
        fc.constantFrom(...greenKeys),
        fc.string({ minLength: 1, maxLength: 12 }),
      );
      const attempt = fc.record({
        kind: fc.integer({ min: 0, max: 8 }),
        key: target,
        version: fc.integer({ min: 1, max: 5 }),
      });
      const counts = { attempts: 0, refused: 0, stayedInside: 0, succeeded: 0 };
      await fc.assert(
        fc.asyncProperty(attempt, async ({ kind, key, version }) => {
          counts.attempts += 1;
          const run = async (): Promise<unknown> => {
            switch (kind) {
              case 0:
                return getCurrent(blue, { pk: key });
              case 1:
                return putIfNewer(blue, { pk: key, version, secret: 'blue-was-here' });
              case 2:
                return guardedUpdate(blue, { pk: key }, { changes: { n: increment(1) } });
              case 3:
                return deleteIfNotNewer(blue, { pk: key }, version);
              case 4:
                return transaction().put(blue, { pk: key, v: 1 }).put(greenScope, { pk: key, v: 1 }).commit();
              case 5:
                return blue.client.send(
                  new QueryCommand({
                    TableName: name,
                    KeyConditionExpression: 'pk = :pk',
                    ExpressionAttributeValues: { ':pk': key },
                  }),
                );
              case 6:
                return blue.client.send(new ScanCommand({ TableName: name }));
              case 7:
                return blue.client.send(new BatchGetCommand({ RequestItems: { [name]: { Keys: [{ pk: key }] } } }));
              default:
                return blue.client.send(new GetCommand({ TableName: 'another-table', Key: { pk: key } }));
            }
          };
          try {
            const result = await run();
            if (leaksGreen(result)) counts.succeeded += 1;
            else counts.stayedInside += 1;
          } catch (error) {
            if (!(error instanceof RacesafeError)) throw error;
            // Refused before sending, or (for a sent request) a service failure that is not a leak either.
            if (error.code === 'tenant.crossTenant' || error.code === 'validation.invalidInput') counts.refused += 1;
            else throw error;
          }
        }),
        { numRuns: 60, seed: 15 },
      );
      expect(counts.attempts).toBe(60);
      expect(counts.succeeded).toBe(0);
      expect(counts.refused + counts.stayedInside).toBe(counts.attempts);
      expect(counts.refused).toBeGreaterThan(0);
      expect(counts.stayedInside).toBeGreaterThan(0);
      // What blue's scope did send stayed inside blue's keys, so the policy allowed all of it.
      expect(enforcer.stats.denied).toBe(0);
      expect(await greenSnapshot(name)).toBe(before);
    },
  );

  it("policy layer: raw requests with blue's credentials at any key outside TENANT#blue# are all denied, none sent", async () => {
    const { client, name, enforcer, wire } = await setup('fuzz-policy');
    const before = await greenSnapshot(name);
    const outside = fc
      .oneof(
        fc.constantFrom(...greenKeys.map((key) => `TENANT#green#${key}`)),
        fc.constantFrom('TENANT#blue2#k0', 'TENANT#blue', 'TENANT#blu#k0', 'tenant#blue#k0', 'TENANT#blue2'),
        fc.string({ minLength: 1, maxLength: 16 }),
      )
      .filter((key) => !key.startsWith('TENANT#blue#'));
    const request = fc.record({ kind: fc.integer({ min: 0, max: 7 }), key: outside });
    let attempts = 0;
    let denied = 0;
    await fc.assert(
      fc.asyncProperty(request, async ({ kind, key }) => {
        attempts += 1;
        const own = 'TENANT#blue#mine';
        const commands = [
          () => new GetCommand({ TableName: name, Key: { pk: key } }),
          () => new PutCommand({ TableName: name, Item: { pk: key, secret: 'blue-was-here' } }),
          () =>
            new UpdateCommand({
              TableName: name,
              Key: { pk: key },
              UpdateExpression: 'SET n = :n',
              ExpressionAttributeValues: { ':n': 1 },
            }),
          () => new DeleteCommand({ TableName: name, Key: { pk: key } }),
          () =>
            new QueryCommand({
              TableName: name,
              KeyConditionExpression: 'pk = :pk',
              ExpressionAttributeValues: { ':pk': key },
            }),
          // One foreign key among own keys denies the whole batch or transaction.
          () => new BatchGetCommand({ RequestItems: { [name]: { Keys: [{ pk: own }, { pk: key }] } } }),
          () =>
            new TransactWriteCommand({
              TransactItems: [
                { Put: { TableName: name, Item: { pk: own, n: 1 } } },
                { ConditionCheck: { TableName: name, Key: { pk: key }, ConditionExpression: 'attribute_exists(pk)' } },
              ],
            }),
          () => new ScanCommand({ TableName: name }),
        ];
        const make = commands[kind] as () => Parameters<typeof client.send>[0];
        const error = await client.send(make()).then(
          () => undefined,
          (failure: unknown) => failure,
        );
        if ((error as { name?: string } | undefined)?.name === 'AccessDeniedException') denied += 1;
      }),
      { numRuns: 80, seed: 15 },
    );
    expect(attempts).toBe(80);
    expect(denied).toBe(attempts);
    expect(enforcer.stats).toEqual({ allowed: 0, denied: 80 });
    expect(wire.sent).toBe(0);
    expect(await greenSnapshot(name)).toBe(before);
    // The same session on its own keys is allowed and sent: the policy layer is not a wall that refuses everything.
    await client.send(new PutCommand({ TableName: name, Item: { pk: 'TENANT#blue#mine', n: 1 } }));
    expect(enforcer.stats.allowed).toBe(1);
    expect(wire.sent).toBe(1);
  });
});
