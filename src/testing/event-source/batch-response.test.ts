import { describe, expect, it } from 'vitest';
import { readBatchResponse } from './batch-response.js';

const batch = ['100', '200', '300', '400'];

describe('readBatchResponse', () => {
  it.each([
    ['undefined (a void handler)', undefined],
    ['null', null],
    ['an empty response', {}],
    ['a null list', { batchItemFailures: null }],
    ['an empty list', { batchItemFailures: [] }],
  ])('reads %s as complete success', (_, response) => {
    expect(readBatchResponse(response, batch)).toEqual({ kind: 'success' });
  });

  it('checkpoints at the lowest reported sequence number, whatever the order of the list', () => {
    const verdict = readBatchResponse(
      { batchItemFailures: [{ itemIdentifier: '400' }, { itemIdentifier: '200' }, { itemIdentifier: '300' }] },
      batch,
    );
    expect(verdict).toMatchObject({ kind: 'partial', failedIndex: 1 });
  });

  it.each([
    ['an empty itemIdentifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['a null itemIdentifier', { batchItemFailures: [{ itemIdentifier: null }] }],
    ['a wrong key name', { batchItemFailures: [{ itemIdentifer: '200' }] }],
    ['an identifier not in the batch', { batchItemFailures: [{ itemIdentifier: '999' }] }],
    ['a list that is not a list', { batchItemFailures: '200' }],
    ['a response that is not an object', 'ok'],
    ['a numeric identifier', { batchItemFailures: [{ itemIdentifier: 200 }] }],
  ])('reads %s as a whole-batch failure', (_, response) => {
    const verdict = readBatchResponse(response, batch);
    expect(verdict.kind).toBe('failure');
    expect(verdict).toMatchObject({ reason: expect.stringContaining('malformed batch response') });
  });
});
