/** @module DynamoDB's expression limits, checked on a built request before it is sent. */
import { invalidInput } from '../errors.js';
import { maxExpressionBytes } from './limits.js';

/** The expression fields of any DynamoDB request. */
export interface ExpressionFields {
  readonly UpdateExpression?: string | undefined;
  readonly ConditionExpression?: string | undefined;
  readonly ProjectionExpression?: string | undefined;
  readonly KeyConditionExpression?: string | undefined;
  readonly FilterExpression?: string | undefined;
}

const expressionFields = [
  'UpdateExpression',
  'ConditionExpression',
  'ProjectionExpression',
  'KeyConditionExpression',
  'FilterExpression',
] as const;

/**
 * Refuses a request whose expression passes "The maximum length of any expression string is 4 KB" (Constraints,
 * Expression parameters). racesafe writes every name and value as a placeholder, so an expression grows with the
 * number of changes and guard rules (about 200 changes fill one): `field` names what the caller passed.
 */
export function checkExpressionSizes(
  input: ExpressionFields & { readonly TransactItems?: readonly object[] | undefined },
  field: string,
): void {
  // A transaction's expressions sit in its actions.
  for (const action of input.TransactItems ?? []) {
    for (const inner of Object.values(action)) {
      if (typeof inner === 'object' && inner !== null) checkExpressionSizes(inner as ExpressionFields, field);
    }
  }
  for (const name of expressionFields) {
    const expression = input[name];
    // Placeholders are ASCII: the length is the byte count, and only a long expression needs counting at all.
    if (expression === undefined || expression.length <= maxExpressionBytes / 3) continue;
    const bytes = Buffer.byteLength(expression);
    if (bytes > maxExpressionBytes) {
      throw invalidInput(
        field,
        `the request's ${name} would be ${bytes} bytes; DynamoDB allows ${maxExpressionBytes} (fewer changes or guard rules per call)`,
      );
    }
  }
}
