/** @module README example: the write primitives on a caller-owned DocumentClient (type-checked with the project). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  decrement,
  defineTable,
  deleteIfNotNewer,
  guardedUpdate,
  increment,
  noChange,
  putIfNewer,
  RacesafeError,
  transaction,
  updateWithLock,
} from 'racesafe';

const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const state = defineTable({ client, name: 'device-state', partitionKey: 'deviceId' });
const stock = defineTable({ client, name: 'stock', partitionKey: 'sku' });
const accounts = defineTable({ client, name: 'accounts', partitionKey: 'accountId' });

export async function examples(): Promise<void> {
  // A stream consumer's state write: version 41 never overwrites 42; stale and duplicate are outcomes.
  const written = await putIfNewer(state, { deviceId: 'd-1', version: 42, temperature: 21.5 });
  if (written.status === 'stale') console.log('skipped, stored version is', written.current.version);

  // A late delete event cannot remove a newer item, and a late older put cannot resurrect a deleted one.
  await deleteIfNotNewer(state, { deviceId: 'd-1' }, 43);

  // Read-modify-write with optimistic locking: bounded, jittered retries on conflict.
  await updateWithLock(state, { deviceId: 'd-2' }, (current) =>
    current?.retired ? noChange : { deviceId: 'd-2', readings: Number(current?.readings ?? 0) + 1 },
  );

  // One atomic request: two orders against a stock of 10 leave 8, and it never goes below 0.
  const order = await guardedUpdate(
    stock,
    { sku: 'A-1' },
    {
      changes: { quantity: decrement(2) },
      require: { quantity: { gte: 2 } },
    },
  );
  if (order.status === 'rejected') console.log('not enough stock:', order.reason);

  // Several items, all or nothing; a cancellation says which action failed and why.
  try {
    await transaction()
      .update(
        accounts,
        { accountId: 'alice' },
        { changes: { balance: decrement(30) }, require: { balance: { gte: 30 } } },
      )
      .update(accounts, { accountId: 'bob' }, { changes: { balance: increment(30) } })
      .commit({ token: 'transfer-0001' });
  } catch (error) {
    if (error instanceof RacesafeError && error.is('transaction.cancelled')) {
      for (const reason of error.details.reasons) console.log(reason.index, reason.code, reason.item);
    }
  }
}
