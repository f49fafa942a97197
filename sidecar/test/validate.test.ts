/** The value checks every sample passes before it is forecast from or published. */
import { checkValue, parseSampleValue } from '../src/source/validate';
import { parseSize, formatSize } from '../src/config/size';

describe('parseSampleValue', () => {
  test.each([
    ['12.5', 12.5],
    ['0', 0],
    ['-3', -3],
    ['1e+300', 1e300],
    ['1.5E-3', 0.0015],
    ['.5', 0.5],
    ['7.', 7],
    ['+Inf', Infinity],
    ['-Inf', -Infinity],
    ['Inf', Infinity],
  ])('when Prometheus sends %j, then it reads %p', (raw, value) => {
    expect(parseSampleValue(raw)).toEqual({ value, invalid: false });
  });

  test('when Prometheus sends "NaN", then it is NaN and not junk', () => {
    expect(parseSampleValue('NaN')).toEqual({ value: NaN, invalid: false });
  });

  test.each([[''], ['null'], ['true'], ['0x10'], [' 1'], ['1 '], ['1,5'], ['Infinity'], ['nan'], ['1e'], ['--1'], ['0b1']])(
    'when the value is the string %j, then it is junk (NaN), not a number',
    (raw) => {
      expect(parseSampleValue(raw)).toEqual({ value: NaN, invalid: true });
    },
  );

  test.each([[null], [true], [16], [undefined], [['1']]])('when the value is not a string (%j), then it is junk', (raw) => {
    expect(parseSampleValue(raw)).toEqual({ value: NaN, invalid: true });
  });
});

describe('checkValue', () => {
  test('when a percent metric is within 0-100, then it is kept as it is', () => {
    expect([checkValue('memory', 0), checkValue('memory', 42.5), checkValue('cpu', 100)]).toEqual([0, 42.5, 100]);
  });

  test('when a percent metric strays within the 1-point tolerance, then it is clamped into 0-100', () => {
    expect([checkValue('cpu', 100.6), checkValue('iowait', -0.4), checkValue('disk', 101), checkValue('disk', -1)]).toEqual([100, 0, 100, 0]);
  });

  test('when a percent metric is beyond the tolerance, then it is out of range', () => {
    expect([checkValue('memory', 250), checkValue('memory', -50), checkValue('cpu', 101.01), checkValue('cpu', 1e300)]).toEqual([
      'out_of_range',
      'out_of_range',
      'out_of_range',
      'out_of_range',
    ]);
  });

  test('when a rate (load per core, bytes per second) is negative, then it is out of range; any non-negative float32 is kept', () => {
    expect([checkValue('load', -0.01), checkValue('network', -5), checkValue('load', 37), checkValue('network', 3e9), checkValue('network', 3.4e38)]).toEqual([
      'out_of_range',
      'out_of_range',
      37,
      3e9,
      3.4e38,
    ]);
  });

  test('when a value exceeds float32, then it is out of range even where the metric has no upper bound', () => {
    expect([checkValue('network', 1e40), checkValue('load', 1e300)]).toEqual(['out_of_range', 'out_of_range']);
  });

  test('when a value is NaN or infinite, then it is non_finite', () => {
    expect([checkValue('cpu', NaN), checkValue('network', Infinity), checkValue('load', -Infinity)]).toEqual(['non_finite', 'non_finite', 'non_finite']);
  });
});

describe('sizes', () => {
  test('when a size is written with a binary unit or as bytes, then it parses to bytes and formats back', () => {
    expect([parseSize('128MiB'), parseSize('64KiB'), parseSize('1GiB'), parseSize('500B'), parseSize('1048576'), parseSize('1.5KiB')]).toEqual([
      134217728, 65536, 1073741824, 500, 1048576, 1536,
    ]);
    expect([formatSize(134217728), formatSize(1536), formatSize(500)]).toEqual(['128MiB', '1.5KiB', '500B']);
  });

  test('when a size has an unknown unit or is not a number, then it is not a size', () => {
    expect([parseSize('10MB'), parseSize('lots'), parseSize(''), parseSize('-1MiB')]).toEqual([undefined, undefined, undefined, undefined]);
  });
});
