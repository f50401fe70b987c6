import { formatDuration, parseDuration } from './duration';

test.each([
  ['0', 0],
  ['100ms', 100],
  ['5s', 5000],
  ['1m30s', 90_000],
  ['24h', 86_400_000],
  ['1.5s', 1500],
  ['1h2m3s4ms', 3_723_004],
  ['500us', 0.5],
  ['500µs', 0.5],
  ['2000000ns', 2],
  [' 10m ', 600_000],
])('parseDuration(%j) = %d', (text, ms) => expect(parseDuration(text)).toBeCloseTo(ms, 9));

test.each(['', '5', '5x', 's', '1m 30s', '-1s', 'abc', '10m5'])('parseDuration rejects %j', (text) => {
  expect(() => parseDuration(text)).toThrow(/invalid duration/);
});

test.each([
  [0, '0s'],
  [100, '100ms'],
  [5000, '5s'],
  [90_000, '90s'],
  [600_000, '10m'],
  [86_400_000, '24h'],
  [1500, '1500ms'],
])('formatDuration(%d) = %s and parses back', (ms, text) => {
  expect(formatDuration(ms)).toBe(text);
  expect(parseDuration(text)).toBe(ms);
});
