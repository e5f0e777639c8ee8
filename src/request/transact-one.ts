/** @module A single-item write as a one-action TransactWriteItems, so that DynamoDB itself recognises a resend by its ClientRequestToken. */
import type {
  DeleteCommandInput,
  PutCommandInput,
  TransactWriteCommandInput,
  UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';

/** The single-item request to wrap: exactly one of a put, an update or a delete. */
export type SingleWrite =
  | { readonly put: PutCommandInput }
  | { readonly update: UpdateCommandInput }
  | { readonly delete: DeleteCommandInput };

/**
 * A one-action TransactWriteItems request (pure). DynamoDB keeps the ClientRequestToken of a successful transaction for
 * 10 minutes: a resend with the same token applies nothing and succeeds, however many other writes landed on the item
 * in between. A transaction returns no item, so `ReturnValues` is dropped; a failed condition still returns the stored
 * item (ALL_OLD) in its cancellation reason. A transactional write costs twice the write units of a plain one.
 */
export function transactOne(write: SingleWrite, token: string): TransactWriteCommandInput {
  if ('put' in write) {
    const { ReturnValues: _values, ...put } = write.put;
    return { ClientRequestToken: token, TransactItems: [{ Put: { ...put, ...allOld } }] } as TransactWriteCommandInput;
  }
  if ('update' in write) {
    const { ReturnValues: _values, ...update } = write.update;
    return {
      ClientRequestToken: token,
      TransactItems: [{ Update: { ...update, ...allOld } }],
    } as TransactWriteCommandInput;
  }
  const { ReturnValues: _values, ...remove } = write.delete;
  return {
    ClientRequestToken: token,
    TransactItems: [{ Delete: { ...remove, ...allOld } }],
  } as TransactWriteCommandInput;
}

const allOld = { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } as const;
