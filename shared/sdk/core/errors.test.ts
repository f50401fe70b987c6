import * as errors from './errors';
import { Code, codeOf, internal, invalidArgument, isServiceError, notFound, StatusError, unavailable, failedPrecondition } from './errors';

describe('StatusError', () => {
  test.each([
    ['StatusError kept', invalidArgument('bad'), Code.INVALID_ARGUMENT, 'bad'],
    ['grpc ServiceError', Object.assign(new Error('14 UNAVAILABLE: gone'), { code: Code.UNAVAILABLE, details: 'gone' }), Code.UNAVAILABLE, 'gone'],
    ['ServiceError without details', Object.assign(new Error('raw'), { code: Code.NOT_FOUND, details: '' }), Code.NOT_FOUND, 'raw'],
    ['plain Error', new Error('boom'), Code.UNKNOWN, 'boom'],
    ['string', 'text', Code.UNKNOWN, 'text'],
  ] as [string, unknown, Code, string][])('from(%s)', (_n, err, code, message) => {
    const s = StatusError.from(err);
    expect(s).toBeInstanceOf(StatusError);
    expect(s.code).toBe(code);
    expect(s.message).toBe(message);
    expect(codeOf(err)).toBe(code);
  });

  test('from returns the same StatusError instance', () => {
    const e = notFound('x');
    expect(StatusError.from(e)).toBe(e);
  });

  test('wrap keeps the code and prefixes the message', () => {
    const w = StatusError.wrap(unavailable('down'), 'dial nsmgr');
    expect(w.code).toBe(Code.UNAVAILABLE);
    expect(w.message).toBe('dial nsmgr: down');
    expect(w.name).toBe('StatusError');
  });

  test('helpers carry their codes', () => {
    expect([internal('a').code, failedPrecondition('b').code]).toEqual([Code.INTERNAL, Code.FAILED_PRECONDITION]);
  });

  test('there is one helper per status, and each keeps an optional cause', () => {
    const codes = Object.entries(Code).filter(([name, v]) => typeof v === 'number' && name !== 'OK');
    const helpers = Object.entries(errors).filter(([name]) => /^[a-z]/.test(name) && !['codeOf', 'isServiceError'].includes(name)) as [string, (m: string, c?: unknown) => StatusError][];
    expect(helpers).toHaveLength(codes.length);
    for (const [name, code] of codes) {
      const helper = helpers.find(([h]) => h.toLowerCase() === name.replace(/_/g, '').toLowerCase() || (name === 'UNKNOWN' && h === 'unknownError'));
      expect([name, helper?.[1]('m').code]).toEqual([name, code]);
      const cause = new Error('root');
      const e = helper![1]('m', cause);
      expect([e.message, e.cause, e.name]).toEqual(['m', cause, 'StatusError']);
      expect('cause' in helper![1]('m')).toBe(false);
    }
  });

  test('isServiceError needs a numeric code and details', () => {
    expect(isServiceError(Object.assign(new Error('x'), { code: 5, details: 'd' }))).toBe(true);
    expect(isServiceError(Object.assign(new Error('x'), { code: 'ENOENT', details: 'd' }))).toBe(false);
    expect(isServiceError(Object.assign(new Error('x'), { code: 5 }))).toBe(false);
    expect(isServiceError({ code: 5, details: 'd' })).toBe(false);
  });
});
