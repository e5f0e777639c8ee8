/** @module Scenario: a worker paused past its lease resumes and writes; fencing rejects the zombie's late result. */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { manualClock } from '../../lease/clock.js';
import { acquireLease, completeLease, readLease } from '../../lease/lease.js';
import { isConditionalCheckFailed } from '../../retry/backoff.js';
import { isSimulatedCrash } from '../../testing/faults.js';
import { workerFailures } from '../runner.js';
import type { RunContext, RunTable, Scenario } from '../scenario.js';

const leaseMs = 1_000;
/** Reads the zombie's work makes after its pause, before it writes its result. */
const zombieReads = 3;

export const zombieLease: Scenario = {
  name: 'zombie-lease',
  summary:
    "A worker pauses past its lease while another takes the job over and completes it; when the zombie resumes, the story's unconditional completion write replaces the newer result, a fenced completeLease writes nothing.",
  invariant: "once the newer holder has completed, the stored result is the newer holder's",
  requires: ['returnValuesOnConditionCheckFailure'],
  async run(context) {
    const tables = await context.table({ ttlAttribute: 'expiresAt' });
    const clock = manualClock(Date.parse('2030-01-01T00:00:00Z'));
    const steps = context.variant === 'safe' ? fenced(tables, clock) : naive(context, tables, clock);
    await steps.acquireA();
    clock.advance(leaseMs + 1); // worker A stalls (a long GC pause, a frozen Lambda): its lease runs out
    let completedB = false;
    const run = await context.race([
      async () => {
        for (let i = 0; i < zombieReads; i++) {
          await context.client.send(new GetCommand({ TableName: tables.name, Key: { pk: 'input' } }));
        }
        await steps.completeA();
      },
      async () => {
        completedB = await steps.takeOverAndCompleteB();
      },
    ]);
    const anomalies = workerFailures(run.results, isSimulatedCrash);
    const stored = await steps.storedResult();
    if (completedB && stored !== 'B')
      anomalies.push(`worker B completed, but the stored result is ${stored}'s: the zombie overwrote it`);
    return { anomalies };
  },
};

interface Steps {
  acquireA(): Promise<void>;
  completeA(): Promise<void>;
  /** True when B took the job over and was told its result is stored. */
  takeOverAndCompleteB(): Promise<boolean>;
  storedResult(): Promise<string | undefined>;
}

function fenced({ table }: RunTable, clock: ReturnType<typeof manualClock>): Steps {
  const key = { pk: 'job#42' };
  const options = { leaseMs, clock };
  let leaseA: Parameters<typeof completeLease>[1] | undefined;
  return {
    async acquireA() {
      const outcome = await acquireLease(table, key, options);
      if (outcome.status !== 'acquired') throw new Error(`worker A could not acquire: ${outcome.status}`);
      leaseA = outcome.lease;
    },
    async completeA() {
      if (leaseA) await completeLease(table, leaseA, { value: 'A' }, options); // 'lost' after a takeover: nothing written
    },
    async takeOverAndCompleteB() {
      const outcome = await acquireLease(table, key, options);
      if (outcome.status !== 'acquired') return false;
      return (await completeLease(table, outcome.lease, { value: 'B' }, options)).status === 'completed';
    },
    async storedResult() {
      const record = await readLease<string>(table, key);
      return record?.hasValue ? String(record.value) : undefined;
    },
  };
}

/** The story's fix: a conditional acquire (free or expired), then an unconditional completion write. */
function naive(context: RunContext, { name }: RunTable, clock: ReturnType<typeof manualClock>): Steps {
  const key = { pk: 'job#42' };
  const acquire = async (owner: string) => {
    try {
      await context.client.send(
        new PutCommand({
          TableName: name,
          Item: { ...key, status: 'PROCESSING', owner, leaseUntil: clock.now() + leaseMs },
          ConditionExpression: 'attribute_not_exists(pk) OR (#s = :processing AND leaseUntil < :now)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':processing': 'PROCESSING', ':now': clock.now() },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  };
  const complete = (owner: string) =>
    context.client.send(
      new PutCommand({ TableName: name, Item: { ...key, status: 'COMPLETED', owner, result: owner } }),
    );
  return {
    async acquireA() {
      if (!(await acquire('A'))) throw new Error('worker A could not acquire');
    },
    async completeA() {
      await complete('A');
    },
    async takeOverAndCompleteB() {
      if (!(await acquire('B'))) return false;
      await complete('B');
      return true;
    },
    async storedResult() {
      const { Item } = await context.setupClient.send(
        new GetCommand({ TableName: name, Key: key, ConsistentRead: true }),
      );
      return Item?.result === undefined ? undefined : String(Item.result);
    },
  };
}
