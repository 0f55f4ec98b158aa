import { failedMessageIds } from '../../../local/queue-poller';

const messages = [{ MessageId: 'a' }, { MessageId: 'b' }, { MessageId: 'c' }];

test('only the messages a ReportBatchItemFailures response names stay on the queue', () => {
  expect(failedMessageIds({ batchItemFailures: [{ itemIdentifier: 'b' }] }, messages)).toEqual(new Set(['b']));
  expect(failedMessageIds({ batchItemFailures: [] }, messages)).toEqual(new Set());
  expect(failedMessageIds(null, messages)).toEqual(new Set());
});

test('as in Lambda, an unknown or empty identifier fails the whole batch', () => {
  expect(failedMessageIds({ batchItemFailures: [{ itemIdentifier: 'zzz' }] }, messages)).toEqual(new Set(['a', 'b', 'c']));
  expect(failedMessageIds({ batchItemFailures: [{ itemIdentifier: '' }] }, messages)).toEqual(new Set(['a', 'b', 'c']));
});
