import { FAULTS, NOT_IN_ALL, describeFaultPlan, needsFaultyProcessor, parseFaultPlan } from '../../../local/faults/fault-plan';

describe('the FRAMES_FAULTS switch', () => {
  test('is off when unset or empty', () => {
    expect(parseFaultPlan(undefined).size).toBe(0);
    expect(parseFaultPlan(' , ').size).toBe(0);
  });

  test('takes names separated by commas, or all of them', () => {
    expect([...parseFaultPlan('s3-outage, worker-crash')]).toEqual(['s3-outage', 'worker-crash']);
    // `all`: the faults whose runs end by themselves within the per-frame bounds; the others are named on their own.
    expect(NOT_IN_ALL).toEqual(['mediaconvert-unavailable', 'completion-crash']);
    expect([...parseFaultPlan('all')].sort()).toEqual(Object.keys(FAULTS).filter((name) => !NOT_IN_ALL.includes(name as never)).sort());
    expect([...parseFaultPlan('all,mediaconvert-unavailable')]).toContain('mediaconvert-unavailable');
  });

  test('refuses an unknown name, listing the known ones', () => {
    expect(() => parseFaultPlan('s3-outage,chaos-monkey')).toThrow(
      'FRAMES_FAULTS names unknown fault "chaos-monkey"; known: duplicate-delivery, processor-throws, worker-crash, mediaconvert-error, s3-outage, dynamodb-throttle, completion-crash, mediaconvert-unavailable (or all).',
    );
  });

  test('wraps the processor only for the processor faults', () => {
    expect(needsFaultyProcessor(parseFaultPlan('processor-throws'))).toBe(true);
    expect(needsFaultyProcessor(parseFaultPlan('worker-crash'))).toBe(true);
    expect(needsFaultyProcessor(parseFaultPlan('duplicate-delivery,s3-outage,dynamodb-throttle,mediaconvert-error'))).toBe(false);
  });

  test('describes each fault in words', () => {
    expect(describeFaultPlan(parseFaultPlan('dynamodb-throttle'))).toBe(
      'dynamodb-throttle: one item write to DynamoDB in 3 is answered ProvisionedThroughputExceededException',
    );
  });
});
