import { resolveCaptureSettings } from '../../functions/ingress/capture-overrides';
import { RejectedInputError } from '../../functions/shared/errors';

const defaults = { fps: { numerator: 1, denominator: 1 }, quality: 80, maxCaptures: 1_000_000 };

describe('resolveCaptureSettings', () => {
  it('uses the stack defaults when the object carries no overrides', () => {
    expect(resolveCaptureSettings({ owner: 'someone' }, defaults)).toEqual(defaults);
  });

  it('applies each override from user metadata', () => {
    expect(
      resolveCaptureSettings({ fps: '30000/1001', quality: '95', 'max-captures': '100' }, defaults),
    ).toEqual({ fps: { numerator: 30000, denominator: 1001 }, quality: 95, maxCaptures: 100 });
  });

  it('reports every bad override at once as INVALID_OVERRIDE', () => {
    let caught: unknown;
    try {
      resolveCaptureSettings({ fps: '30/0', quality: '101', 'max-captures': '-1' }, defaults);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RejectedInputError);
    expect(caught).toMatchObject({ code: 'INVALID_OVERRIDE' });
    const message = (caught as Error).message;
    expect(message).toContain('fps "30/0" has a zero denominator');
    expect(message).toContain('quality "101" must be a whole number from 1 to 100');
    expect(message).toContain('max-captures "-1" must be a whole number from 1 to 1000000');
    expect(message).toContain('Fix the object metadata and upload the video again.');
  });
});
