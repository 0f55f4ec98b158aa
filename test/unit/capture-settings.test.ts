import {
  InvalidCaptureSettingError,
  formatFrameRate,
  parseFrameRate,
  parseMaxCaptures,
  parseQuality,
} from '../../pipeline/capture-settings';

describe('parseFrameRate', () => {
  it.each([
    ['5', { numerator: 5, denominator: 1 }],
    [' 30 ', { numerator: 30, denominator: 1 }],
    ['30000/1001', { numerator: 30000, denominator: 1001 }],
    ['24 / 1', { numerator: 24, denominator: 1 }],
    ['0.5', { numerator: 1, denominator: 2 }],
    ['29.97', { numerator: 2997, denominator: 100 }],
    ['240', { numerator: 240, denominator: 1 }],
  ])('reads %p as %p', (text, expected) => {
    expect(parseFrameRate(text)).toEqual(expected);
  });

  it.each([
    ['0', /greater than zero/],
    ['30/0', /zero denominator/],
    ['0/5', /greater than zero/],
    ['-5', /not a number/],
    ['abc', /not a number/],
    ['', /not a number/],
    ['5fps', /not a number/],
    ['1e3', /not a number/],
    ['241', /above 240 frames per second/],
    ['4294967296/4294967295', /MediaConvert's limit/],
  ])('rejects %p with a message that says why', (text, why) => {
    const attempt = () => parseFrameRate(text);
    expect(attempt).toThrow(InvalidCaptureSettingError);
    expect(attempt).toThrow(why);
    expect(attempt).toThrow(/Use a whole number such as 5, a ratio such as 30000\/1001/);
  });

  it('formats rates back the way a person writes them', () => {
    expect(formatFrameRate({ numerator: 5, denominator: 1 })).toBe('5');
    expect(formatFrameRate({ numerator: 30000, denominator: 1001 })).toBe('30000/1001');
  });
});

describe('parseQuality and parseMaxCaptures', () => {
  it('accepts the ends of their ranges', () => {
    expect(parseQuality('1')).toBe(1);
    expect(parseQuality('100')).toBe(100);
    expect(parseMaxCaptures('1')).toBe(1);
    expect(parseMaxCaptures('1000000')).toBe(1_000_000);
  });

  it.each(['0', '101', '50.5', '-1', 'high', ''])('rejects quality %p', (text) => {
    expect(() => parseQuality(text)).toThrow('must be a whole number from 1 to 100');
  });

  it.each(['0', '-1', '1000001', '1.5', 'all'])('rejects max-captures %p', (text) => {
    expect(() => parseMaxCaptures(text)).toThrow('must be a whole number from 1 to 1000000');
  });
});
