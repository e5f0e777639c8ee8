/** @module Adversarial review of tenantScope on DynamoDB Local: tenant blue tries every request shape at tenant green's data. */
import {
  DynamoDBClient,
  GetItemCommand,
  ExecuteStatementCommand as LowExecuteStatementCommand,
  QueryCommand as LowQueryCommand,
  ScanCommand as LowScanCommand,
} from '@aws-sdk/client-dynamodb';
import {
  BatchExecuteStatementCommand,
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  ExecuteStatementCommand,
  ExecuteTransactionCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactGetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { freshTable, itWhen, useEngine } from '../../test/engine.js';
import { RacesafeError } from '../errors.js';
import { kinesisHandler } from '../stream/sources/kinesis.js';
import { kinesisRecord } from '../stream/stream.test-support.js';
import type { Table } from '../table.js';
import { localClientConfig } from '../testing/dynamodb-engine.js';
import { type AccessRequest, enforceLeadingKeys } from '../testing/tenant-enforcer.js';
import { getCurrent } from '../write/get-current.js';
import { putIfNewer } from '../write/put-if-newer.js';
import { tenantPolicies } from './policy.js';
import { tenantScope } from './scope.js';

// @cloud-copilot/iam-simulate (AGPL-3.0) decides the policy layer: a dev dependency, used by tests only.

const engine = useEngine();
const account = '123456789012';
const arnOf = (name: string) => `arn:aws:dynamodb:eu-west-1:${account}:table/${name}`;

/** A client that counts what reaches the wire: "refused before sending" means the count did not move. */
function countingClient() {
  const dynamodb = new DynamoDBClient({ ...localClientConfig, endpoint: engine.endpoint });
  const wire = { sent: 0 };
  dynamodb.middlewareStack.add(
    (next) => async (args) => {
      wire.sent += 1;
      return next(args);
    },
    { step: 'finalizeRequest', name: 'countWire' },
  );
  return { dynamodb, client: DynamoDBDocumentClient.from(dynamodb), wire };
}

/** Two tables (one with a sort key); green's items hold secrets; blue's scope sends through a counting client. */
async function arena(prefix: string) {
  const { dynamodb, client, wire } = countingClient();
  const plain = await freshTable(engine, { prefix: `${prefix}-a`, stream: false });
  const sorted = await freshTable(engine, { prefix: `${prefix}-b`, sortKey: 'sk', stream: false });
  for (const key of ['k0', 'k1']) {
    await engine.client.send(
      new PutCommand({ TableName: plain.name, Item: { pk: `TENANT#green#${key}`, secret: `green-${key}` } }),
    );
    await engine.client.send(
      new PutCommand({
        TableName: sorted.name,
        Item: { pk: `TENANT#green#${key}`, sk: 's', secret: `green-${key}` },
      }),
    );
  }
  // Blue holds the same caller keys: a request that reaches green's item can then tell the two apart.
  await engine.client.send(new PutCommand({ TableName: plain.name, Item: { pk: 'TENANT#blue#k0', mine: 'blue-k0' } }));
  const blue = tenantScope({ ...plain.table, client }, 'blue');
  const blueSorted = tenantScope({ ...sorted.table, client }, 'blue');
  return { dynamodb, client, wire, plain: plain.name, sorted: sorted.name, blue, blueSorted };
}

/** Everything green has, as stored: unchanged by every attack. */
async function greenState(...names: string[]): Promise<string> {
  const all: unknown[] = [];
  for (const name of names) {
    const { Items = [] } = await engine.client.send(new ScanCommand({ TableName: name, ConsistentRead: true }));
    all.push(
      Items.filter((item) => String(item.pk).startsWith('TENANT#green#')).sort((a, b) =>
        String(a.pk).localeCompare(String(b.pk)),
      ),
    );
  }
  return JSON.stringify(all);
}

type Attack = readonly [name: string, run: () => Promise<unknown>];

/** Runs each attack: each must fail with tenant.crossTenant (or a typed input error) before anything is sent. */
async function expectRefusedBeforeSending(wire: { sent: number }, attacks: readonly Attack[]) {
  const outcomes: string[] = [];
  for (const [name, run] of attacks) {
    const before = wire.sent;
    const result = await run().then(
      (value) => `${name}: ANSWERED ${JSON.stringify(value)}`,
      (error: unknown) =>
        error instanceof RacesafeError && (error.is('tenant.crossTenant') || error.is('validation.invalidInput'))
          ? wire.sent === before
            ? `${name}: refused`
            : `${name}: refused after sending`
          : `${name}: OTHER ${String(error)}`,
    );
    outcomes.push(result);
  }
  expect(outcomes).toEqual(attacks.map(([name]) => `${name}: refused`));
}

describe('tenant blue against green through the scope (DynamoDB Local)', () => {
  it('queries: every way to aim a key condition at green is refused before sending', async () => {
    const { wire, plain, sorted, blue, blueSorted } = await arena('adv-query');
    const before = await greenState(plain, sorted);
    const q = (input: Record<string, unknown>) =>
      blue.client.send(new QueryCommand({ TableName: plain, ...input } as never));
    const qs = (input: Record<string, unknown>) =>
      blueSorted.client.send(new QueryCommand({ TableName: sorted, ...input } as never));
    await expectRefusedBeforeSending(wire, [
      [
        'stored key of green',
        () => q({ KeyConditionExpression: 'pk = :v', ExpressionAttributeValues: { ':v': 'TENANT#green#k0' } }),
      ],
      [
        'reversed comparison',
        () => q({ KeyConditionExpression: ':v = pk', ExpressionAttributeValues: { ':v': 'k0' } }),
      ],
      [
        'parenthesised key',
        () => q({ KeyConditionExpression: '(pk) = :v', ExpressionAttributeValues: { ':v': 'k0' } }),
      ],
      [
        'two placeholders for the key',
        () =>
          qs({
            KeyConditionExpression: '#a = :v AND #b = :w',
            ExpressionAttributeNames: { '#a': 'pk', '#b': 'pk' },
            ExpressionAttributeValues: { ':v': 'k0', ':w': 'TENANT#green#k0' },
          }),
      ],
      [
        'key value placeholder reused in the filter',
        () =>
          q({
            KeyConditionExpression: 'pk = :v',
            FilterExpression: 'secret <> :v',
            ExpressionAttributeValues: { ':v': 'k0' },
          }),
      ],
      [
        'key value placeholder reused for the sort key',
        () =>
          qs({
            KeyConditionExpression: 'pk = :v AND sk >= :v',
            ExpressionAttributeValues: { ':v': 'k0' },
          }),
      ],
      [
        'filter compares the key through another placeholder',
        () =>
          q({
            KeyConditionExpression: '#p = :v',
            FilterExpression: 'begins_with(#q, :g)',
            ExpressionAttributeNames: { '#p': 'pk', '#q': 'pk' },
            ExpressionAttributeValues: { ':v': 'k0', ':g': 'TENANT#green' },
          }),
      ],
      [
        'legacy KeyConditions',
        () => q({ KeyConditions: { pk: { ComparisonOperator: 'EQ', AttributeValueList: ['TENANT#green#k0'] } } }),
      ],
      [
        'legacy QueryFilter beside a good key condition',
        () =>
          q({
            KeyConditionExpression: 'pk = :v',
            ExpressionAttributeValues: { ':v': 'k0' },
            QueryFilter: { secret: { ComparisonOperator: 'NOT_NULL' } },
          }),
      ],
      [
        'an index',
        () =>
          q({
            IndexName: 'byPk',
            KeyConditionExpression: 'pk = :v',
            ExpressionAttributeValues: { ':v': 'k0' },
          }),
      ],
      [
        "green's stored key as ExclusiveStartKey",
        () =>
          q({
            KeyConditionExpression: 'pk = :v',
            ExpressionAttributeValues: { ':v': 'k0' },
            ExclusiveStartKey: { pk: 'TENANT#green#k0' },
          }),
      ],
      [
        'a number as the key value',
        () => q({ KeyConditionExpression: 'pk = :v', ExpressionAttributeValues: { ':v': 7 } }),
      ],
      ['an empty key value', () => q({ KeyConditionExpression: 'pk = :v', ExpressionAttributeValues: { ':v': '' } })],
      [
        'a binary key value',
        () => q({ KeyConditionExpression: 'pk = :v', ExpressionAttributeValues: { ':v': new Uint8Array([1]) } }),
      ],
      ['no key condition', () => q({})],
      ['undefined placeholder', () => q({ KeyConditionExpression: 'pk = :v', ExpressionAttributeValues: {} })],
      [
        'another table (unscoped) by name',
        () =>
          blue.client.send(
            new QueryCommand({
              TableName: `${plain}-other`,
              KeyConditionExpression: 'pk = :v',
              ExpressionAttributeValues: { ':v': 'TENANT#green#k0' },
            }),
          ),
      ],
      [
        "the table's ARN instead of its name",
        () =>
          blue.client.send(
            new QueryCommand({
              TableName: arnOf(plain),
              KeyConditionExpression: 'pk = :v',
              ExpressionAttributeValues: { ':v': 'TENANT#green#k0' },
            }),
          ),
      ],
    ]);
    expect(await greenState(plain, sorted)).toBe(before);
    // The control: blue's own query works and answers in blue's terms.
    const own = await q({ KeyConditionExpression: 'pk = :v', ExpressionAttributeValues: { ':v': 'k0' } });
    expect(own).toMatchObject({ Items: [{ pk: 'k0', mine: 'blue-k0' }] });
  });

  it('commands the scope cannot confine, low-level commands and look-alike commands are refused before sending', async () => {
    const { wire, plain, blue } = await arena('adv-commands');
    const send = (command: unknown) => blue.client.send(command as never);
    class SneakyGet extends GetCommand {}
    await expectRefusedBeforeSending(wire, [
      ['Scan', () => send(new ScanCommand({ TableName: plain }))],
      ['PartiQL ExecuteStatement', () => send(new ExecuteStatementCommand({ Statement: `SELECT * FROM "${plain}"` }))],
      [
        'PartiQL BatchExecuteStatement',
        () => send(new BatchExecuteStatementCommand({ Statements: [{ Statement: `SELECT * FROM "${plain}"` }] })),
      ],
      [
        'PartiQL ExecuteTransaction',
        () => send(new ExecuteTransactionCommand({ TransactStatements: [{ Statement: `SELECT * FROM "${plain}"` }] })),
      ],
      [
        'low-level GetItem',
        () => send(new GetItemCommand({ TableName: plain, Key: { pk: { S: 'TENANT#green#k0' } } })),
      ],
      [
        'low-level Query',
        () =>
          send(
            new LowQueryCommand({
              TableName: plain,
              KeyConditionExpression: 'pk = :v',
              ExpressionAttributeValues: { ':v': { S: 'TENANT#green#k0' } },
            }),
          ),
      ],
      ['low-level Scan', () => send(new LowScanCommand({ TableName: plain }))],
      [
        'low-level ExecuteStatement',
        () => send(new LowExecuteStatementCommand({ Statement: `SELECT * FROM "${plain}"` })),
      ],
      ['a subclass of GetCommand', () => send(new SneakyGet({ TableName: plain, Key: { pk: 'TENANT#green#k0' } }))],
      ['no command', () => send(undefined)],
      ['a plain object', () => send({ input: { TableName: plain, Key: { pk: 'TENANT#green#k0' } } })],
    ]);
    // An object that claims GetCommand as its constructor is rebuilt as a scoped GetCommand: it reads blue's item.
    const forged = { constructor: GetCommand, input: { TableName: plain, Key: { pk: 'k0' } } };
    expect(await send(forged)).toMatchObject({ Item: { pk: 'k0', mine: 'blue-k0' } });
  });

  it("keys, items and actions that name green's data, another table or two actions in one are refused before sending", async () => {
    const { wire, plain, sorted, blue } = await arena('adv-items');
    const before = await greenState(plain, sorted);
    const send = (command: unknown) => blue.client.send(command as never);
    const green = { pk: 'TENANT#green#k0' };
    await expectRefusedBeforeSending(wire, [
      ['Get of a stored key', () => send(new GetCommand({ TableName: plain, Key: green }))],
      ['Put over a stored key', () => send(new PutCommand({ TableName: plain, Item: { ...green, secret: 'blue' } }))],
      [
        'Put of own stored key (twice prefixed)',
        () => send(new PutCommand({ TableName: plain, Item: { pk: 'TENANT#blue#k0' } })),
      ],
      ['Delete of a stored key', () => send(new DeleteCommand({ TableName: plain, Key: green }))],
      [
        'Update of a stored key',
        () =>
          send(
            new UpdateCommand({
              TableName: plain,
              Key: green,
              UpdateExpression: 'SET secret = :s',
              ExpressionAttributeValues: { ':s': 'blue' },
            }),
          ),
      ],
      ['Get of a key with no partition key', () => send(new GetCommand({ TableName: plain, Key: { sk: 'x' } }))],
      ['Get with no key', () => send(new GetCommand({ TableName: plain } as never))],
      ['Get with no table', () => send(new GetCommand({ Key: { pk: 'k0' } } as never))],
      [
        'Get with legacy AttributesToGet',
        () => send(new GetCommand({ TableName: plain, Key: { pk: 'k0' }, AttributesToGet: ['secret'] })),
      ],
      [
        'Put with legacy Expected',
        () => send(new PutCommand({ TableName: plain, Item: { pk: 'k9' }, Expected: { pk: { Exists: false } } })),
      ],
      [
        'condition compares the key',
        () =>
          send(
            new PutCommand({
              TableName: plain,
              Item: { pk: 'k9' },
              ConditionExpression: 'pk <> :g',
              ExpressionAttributeValues: { ':g': 'TENANT#green#k9' },
            }),
          ),
      ],
      [
        'condition tests the key by begins_with',
        () =>
          send(
            new DeleteCommand({
              TableName: plain,
              Key: { pk: 'k0' },
              ConditionExpression: 'begins_with(#k, :p)',
              ExpressionAttributeNames: { '#k': 'pk' },
              ExpressionAttributeValues: { ':p': 'TENANT#' },
            }),
          ),
      ],
      [
        'condition reaches into the key by a path',
        () =>
          send(
            new DeleteCommand({ TableName: plain, Key: { pk: 'k0' }, ConditionExpression: 'attribute_exists(pk.x)' }),
          ),
      ],
      [
        'BatchGet across a scoped and an unscoped table',
        () =>
          send(
            new BatchGetCommand({
              RequestItems: { [plain]: { Keys: [{ pk: 'k0' }] }, [`${plain}-x`]: { Keys: [green] } },
            }),
          ),
      ],
      [
        'BatchGet with a stored key among own keys',
        () => send(new BatchGetCommand({ RequestItems: { [plain]: { Keys: [{ pk: 'k0' }, green] } } })),
      ],
      [
        'BatchGet keyed by a __proto__ table name (JSON.parse)',
        () =>
          send(
            new BatchGetCommand({ RequestItems: JSON.parse('{"__proto__": {"Keys": [{"pk": "TENANT#green#k0"}]}}') }),
          ),
      ],
      [
        'BatchWrite delete of a stored key',
        () => send(new BatchWriteCommand({ RequestItems: { [plain]: [{ DeleteRequest: { Key: green } }] } })),
      ],
      [
        'BatchWrite of something that is neither put nor delete',
        () => send(new BatchWriteCommand({ RequestItems: { [plain]: [{ UpdateRequest: { Key: green } }] } } as never)),
      ],
      [
        'TransactGet of a stored key',
        () =>
          send(
            new TransactGetCommand({
              TransactItems: [
                { Get: { TableName: plain, Key: { pk: 'k0' } } },
                { Get: { TableName: plain, Key: green } },
              ],
            }),
          ),
      ],
      [
        'TransactGet of another table',
        () => send(new TransactGetCommand({ TransactItems: [{ Get: { TableName: `${plain}-x`, Key: green } }] })),
      ],
      [
        'TransactGet with a ConditionCheck',
        () =>
          send(
            new TransactGetCommand({
              TransactItems: [
                {
                  ConditionCheck: { TableName: plain, Key: { pk: 'k0' }, ConditionExpression: 'attribute_exists(pk)' },
                },
              ],
            } as never),
          ),
      ],
      [
        'TransactWrite action holding two kinds',
        () =>
          send(
            new TransactWriteCommand({
              TransactItems: [
                { Put: { TableName: plain, Item: { pk: 'k9' } }, Delete: { TableName: plain, Key: green } },
              ],
            }),
          ),
      ],
      [
        'TransactWrite ConditionCheck of a stored key',
        () =>
          send(
            new TransactWriteCommand({
              TransactItems: [
                { Put: { TableName: plain, Item: { pk: 'k9' } } },
                { ConditionCheck: { TableName: plain, Key: green, ConditionExpression: 'attribute_exists(pk)' } },
              ],
            }),
          ),
      ],
      [
        'TransactWrite into another table',
        () => send(new TransactWriteCommand({ TransactItems: [{ Put: { TableName: `${plain}-x`, Item: green } }] })),
      ],
    ]);
    expect(await greenState(plain, sorted)).toBe(before);
  });

  it('a write request holding both a put and a delete sends only the put, scoped', async () => {
    const { plain, sorted, blue } = await arena('adv-both');
    const before = await greenState(plain, sorted);
    await blue.client.send(
      new BatchWriteCommand({
        RequestItems: {
          [plain]: [{ PutRequest: { Item: { pk: 'k5', n: 1 } }, DeleteRequest: { Key: { pk: 'TENANT#green#k0' } } }],
        },
      }),
    );
    expect(await greenState(plain, sorted)).toBe(before);
    expect(await getCurrent(blue, { pk: 'k5' })).toMatchObject({ pk: 'k5', n: 1 });
  });

  itWhen(['transactions', 'returnValuesOnConditionCheckFailure'])(
    "an update that moves an item's key is refused (the scope: the partition key; DynamoDB: the sort key); condition failures carry only blue's item",
    async () => {
      const { plain, sorted, blue, blueSorted } = await arena('adv-engine');
      const before = await greenState(plain, sorted);
      const engineRefusal = async (run: () => Promise<unknown>) =>
        run().then(
          () => 'applied',
          (error: { name?: string; code?: string }) => error.code ?? error.name,
        );
      for (const [table, scope, key] of [
        [plain, blue, { pk: 'k0' }],
        [sorted, blueSorted, { pk: 'k0', sk: 's' }],
      ] as const) {
        for (const update of ['SET #k = :g', 'REMOVE #k']) {
          expect(
            await engineRefusal(() =>
              scope.client.send(
                new UpdateCommand({
                  TableName: table,
                  Key: key,
                  UpdateExpression: update,
                  ExpressionAttributeNames: { '#k': 'pk' },
                  ...(update.includes(':g') ? { ExpressionAttributeValues: { ':g': 'TENANT#green#k0' } } : {}),
                  ReturnValues: 'ALL_NEW',
                }),
              ),
            ),
            `${table} ${update}`,
          ).toBe('tenant.crossTenant');
        }
      }
      // The sort key is part of the key too: it cannot be moved either.
      expect(
        await engineRefusal(() =>
          blueSorted.client.send(
            new UpdateCommand({
              TableName: sorted,
              Key: { pk: 'k0', sk: 's' },
              UpdateExpression: 'SET sk = :s',
              ExpressionAttributeValues: { ':s': 't' },
            }),
          ),
        ),
      ).toBe('ValidationException');
      expect(await greenState(plain, sorted)).toBe(before);

      // A failed condition with ALL_OLD, alone and in a transaction: the item that comes back is blue's, unprefixed.
      const single = await blue.client
        .send(
          new PutCommand({
            TableName: plain,
            Item: { pk: 'k0', mine: 'overwritten' },
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        )
        .catch((error: { Item?: unknown }) => error);
      expect(single).toMatchObject({
        name: 'ConditionalCheckFailedException',
        Item: { pk: { S: 'k0' }, mine: { S: 'blue-k0' } },
      });
      const cancelled = await blue.client
        .send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: plain,
                  Item: { pk: 'k0' },
                  ConditionExpression: 'attribute_not_exists(pk)',
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                },
              },
            ],
          }),
        )
        .catch((error: unknown) => error);
      expect(cancelled).toMatchObject({
        name: 'TransactionCanceledException',
        CancellationReasons: [{ Code: 'ConditionalCheckFailed', Item: { pk: { S: 'k0' } } }],
      });
      expect(JSON.stringify([single, cancelled])).not.toContain('green-');
    },
  );

  it('an update expression may not read the stored partition key: callers never see a prefix', async () => {
    const { wire, plain, blue } = await arena('adv-update-reads-key');
    const update = (UpdateExpression: string, names?: Record<string, string>, values?: Record<string, unknown>) => () =>
      blue.client.send(
        new UpdateCommand({
          TableName: plain,
          Key: { pk: 'k0' },
          UpdateExpression,
          ...(names === undefined ? {} : { ExpressionAttributeNames: names }),
          ...(values === undefined ? {} : { ExpressionAttributeValues: values }),
          ReturnValues: 'ALL_NEW',
        }),
      );
    await expectRefusedBeforeSending(wire, [
      ['SET dup = pk', update('SET dup = pk')],
      ['SET dup = #k', update('SET dup = #k', { '#k': 'pk' })],
      ['if_not_exists on the key', update('SET dup = if_not_exists(#k, :x)', { '#k': 'pk' }, { ':x': 'x' })],
      ['the key beside another action', update('SET n = :n, dup = #k', { '#k': 'pk' }, { ':n': 1 })],
      ['ADD to the key', update('ADD #k :n', { '#k': 'pk' }, { ':n': 1 })],
    ]);
    expect((await getCurrent(blue, { pk: 'k0' })) ?? {}).not.toHaveProperty('dup');
  });

  it('tenant ids and prefixes: no id is a prefix trick on another, and no odd id gets a scope', async () => {
    const { client, plain } = await arena('adv-ids');
    const table: Table = { ...(await freshTable(engine, { prefix: 'adv-ids-t', stream: false })).table, client };
    const invalid = (tenantId: unknown, keys?: object) => {
      try {
        tenantScope(table, tenantId as string, keys === undefined ? {} : { keys });
      } catch (error) {
        return error instanceof RacesafeError ? error.code : String(error);
      }
      return 'accepted';
    };
    for (const id of [
      '',
      'a#b',
      'green#',
      '#green',
      'blue ',
      'blüe',
      'ａ',
      'a\u0000',
      'a*',
      'b?',
      'x'.repeat(49),
      7,
      null,
    ]) {
      expect(invalid(id), JSON.stringify(id)).toBe('validation.invalidInput');
    }
    for (const separator of ['*', '?', '$', '{', '-', '.', 'a', '', '##', ' ']) {
      expect(invalid('blue', { separator }), separator).toBe('validation.invalidOption');
    }
    expect(invalid('blue', { label: 'TENANT#green' })).toBe('validation.invalidOption');
    // A scope for blue with '/' as the separator cannot reach green under '#': its keys all start TENANT/blue/.
    const slash = tenantScope({ ...table, name: plain }, 'blue', { keys: { separator: '/' } });
    const refused = await slash.client
      .send(new GetCommand({ TableName: plain, Key: { pk: 'TENANT/green/k0' } }))
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RacesafeError);
    expect(
      (await slash.client.send(new GetCommand({ TableName: plain, Key: { pk: '#green#k0' } }))).Item,
    ).toBeUndefined();
  });

  it("a tenant's own credentials stop what escapes the scope: a DocumentClient rebuilt from the scoped client reaches the wire unscoped, and IAM denies it", async () => {
    const created = await freshTable(engine, { prefix: 'adv-escape', stream: false });
    await engine.client.send(
      new PutCommand({ TableName: created.name, Item: { pk: 'TENANT#green#k0', secret: 'green-k0' } }),
    );
    const { tenantRolePermissions } = tenantPolicies({
      tableArns: [arnOf(created.name)],
      tenantRoleArn: `arn:aws:iam::${account}:role/tenant-access`,
      executionRoleArn: `arn:aws:iam::${account}:role/api`,
    });
    const evaluator = async (request: AccessRequest) => {
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
      if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
      return result.overallResult === 'Allowed';
    };
    const { dynamodb, client, wire } = countingClient();
    const enforcer = enforceLeadingKeys({
      tables: { [created.name]: { partitionKey: 'pk' } },
      evaluator,
      tableArn: arnOf,
    });
    enforcer.attach(dynamodb);
    const blue = tenantScope({ ...created.table, client }, 'blue');
    // The scope confines requests, not code: the scoped client lends its config and middleware stack, so a client
    // rebuilt from it sends unscoped. That is why tenantHandler can hand the scope a client with the tenant's own
    // credentials.
    const escaped = DynamoDBDocumentClient.from(blue.client as never);
    const attempt = await escaped
      .send(new GetCommand({ TableName: created.name, Key: { pk: 'TENANT#green#k0' } }))
      .catch((error: { name?: string }) => error.name);
    expect(attempt).toBe('AccessDeniedException');
    // PartiQL around the scope: asked as dynamodb:PartiQLSelect on the table, which the tenant policy denies.
    const partiQL = await escaped
      .send(new ExecuteStatementCommand({ Statement: `SELECT * FROM "${created.name}" WHERE pk = 'TENANT#green#k0'` }))
      .catch((error: { name?: string }) => error.name);
    expect(partiQL).toBe('AccessDeniedException');
    expect(wire.sent).toBe(0);
    expect(enforcer.stats).toEqual({ allowed: 0, denied: 2 });
    await putIfNewer(blue, { pk: 'k0', version: 1 });
    expect(enforcer.stats.allowed).toBe(1);
  });

  it("a stream that carries several tenants: collapse by a tenant-blind key drops green's write under blue's; a key with the tenant keeps both", async () => {
    const { table } = await freshTable(engine, { prefix: 'adv-collapse', stream: false });
    type Reading = { tenant: string; pk: string; version: number; total: number };
    // The producer keys its Kinesis records by order id, as if it had one tenant: blue and green share 'order-1'.
    const records = [
      kinesisRecord('order-1', { tenant: 'green', pk: 'order-1', version: 3, total: 30 }, 1),
      kinesisRecord('order-1', { tenant: 'blue', pk: 'order-1', version: 5, total: 50 }, 2),
    ];
    const run = async (key: ((reading: Reading) => string) | undefined) => {
      const statuses: string[] = [];
      const handler = kinesisHandler<Reading>({
        parse: (payload) => payload as Reading,
        version: (reading) => reading.version,
        collapse: true,
        ...(key === undefined ? {} : { key }),
        observe: (event) => statuses.push(event.status),
        handle: ({ tenant, ...reading }, record) => putIfNewer(tenantScope(table, tenant), reading, record.callOptions),
      });
      expect(await handler({ Records: records })).toEqual({ batchItemFailures: [] });
      return statuses;
    };
    // Naive: the default lane key is the record's partition key; collapse keeps blue's v5 and reports green's v3
    // stale, although green has no order-1 at all.
    expect(await run(undefined)).toContain('stale');
    expect(await getCurrent(tenantScope(table, 'green'), { pk: 'order-1' })).toBeUndefined();
    // Safe: the tenant is part of the key, so each tenant's records collapse among themselves.
    expect(await run((reading) => `${reading.tenant}#${reading.pk}`)).not.toContain('stale');
    expect(await getCurrent(tenantScope(table, 'green'), { pk: 'order-1' })).toMatchObject({ version: 3, total: 30 });
    expect(await getCurrent(tenantScope(table, 'blue'), { pk: 'order-1' })).toMatchObject({ version: 5, total: 50 });
  });
});
