import { describe, expect, it } from 'vitest';
import { formatTimeline, logicalTableName } from './timeline.js';

describe('formatTimeline', () => {
  it('shows who sent what, in order, and which response was lost', () => {
    const lines = formatTimeline([
      {
        worker: 0,
        invocation: 'event 0',
        operation: 'GetItem',
        table: 'check_t_1_a_1',
        key: { pk: 'a' },
        outcome: 'ok',
      },
      {
        worker: 1,
        invocation: 'event 1',
        operation: 'GetItem',
        table: 'check_t_1_a_1',
        key: { pk: 'a' },
        outcome: 'ok',
      },
      {
        worker: 1,
        invocation: 'event 1',
        operation: 'PutItem',
        table: 'check_t_1_a_1',
        key: { pk: 'a' },
        detail: '{"version":2}',
        outcome: 'ok',
        responseLost: true,
      },
    ]);
    expect(lines).toEqual([
      '#  who  invocation  request                                   outcome',
      '1  λ0   event 0     GetItem check_t {"pk":"a"}                ok',
      '2  λ1   event 1     GetItem check_t {"pk":"a"}                ok',
      '3  λ1   event 1     PutItem check_t {"pk":"a"} {"version":2}  ok, applied, RESPONSE LOST (the SDK retries)',
    ]);
  });

  it('reads a scheduler trace: a lost response is the SimulatedNetworkError outcome', () => {
    const [, row] = formatTimeline(
      [{ worker: 2, operation: 'UpdateItem', table: 't', outcome: 'SimulatedNetworkError' }],
      {
        workerName: (worker) => `w${worker}`,
      },
    );
    expect(row).toBe('1  w2   UpdateItem t  applied, RESPONSE LOST (the SDK retries)');
  });

  it('strips the unique suffix of fresh tables', () => {
    expect(logicalTableName('lab_lost_update_4242_m3k9ab_7')).toBe('lab_lost_update');
    expect(logicalTableName('orders')).toBe('orders');
  });
});
