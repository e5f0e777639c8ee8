/** @module The shape every conditional UpdateItem of racesafe shares. */
import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Placeholders } from '../expression/placeholders.js';
import type { Item, Table } from '../table.js';

/**
 * A conditional UpdateItem (pure), once both expressions are rendered with `placeholders`. The stored item comes back
 * with a failed condition (ALL_OLD), so stale / duplicate / rejected / lost need no second read.
 */
export function conditionalUpdateInput(
  table: Table,
  key: Item,
  placeholders: Placeholders,
  expressions: { readonly update: string; readonly condition: string },
  returnValues: 'ALL_NEW' | 'NONE',
): UpdateCommandInput {
  return {
    TableName: table.name,
    Key: key,
    UpdateExpression: expressions.update,
    ConditionExpression: expressions.condition,
    ...placeholders.attributes(),
    ...(returnValues === 'ALL_NEW' ? { ReturnValues: returnValues } : {}),
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
}
