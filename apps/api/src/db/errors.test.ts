import { describe, expect, it } from 'vitest';
import { DatabaseUnavailableError, classifyDatabaseError, isConnectionError } from './errors.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('classifyDatabaseError', () => {
  it.each([
    ['57P01', 'DATABASE_UNAVAILABLE'],
    ['57P03', 'DATABASE_UNAVAILABLE'],
    ['08006', 'DATABASE_UNAVAILABLE'],
    ['53300', 'DATABASE_UNAVAILABLE'],
    ['ECONNREFUSED', 'DATABASE_UNAVAILABLE'],
    ['57014', 'DATABASE_TIMEOUT'],
  ])('maps %s to %s with the original as cause', (code, expected) => {
    const original = withCode(code);
    const mapped = classifyDatabaseError(original);
    expect(mapped).toBeInstanceOf(DatabaseUnavailableError);
    expect((mapped as DatabaseUnavailableError).code).toBe(expected);
    expect((mapped as DatabaseUnavailableError).cause).toBe(original);
  });

  it("maps pg's own connection messages (no code) to DATABASE_UNAVAILABLE", () => {
    for (const message of [
      'timeout exceeded when trying to connect',
      'Connection terminated unexpectedly',
      'Client has encountered a connection error and is not queryable',
    ]) {
      expect(isConnectionError(new Error(message))).toBe(true);
      expect((classifyDatabaseError(new Error(message)) as DatabaseUnavailableError).code).toBe('DATABASE_UNAVAILABLE');
    }
  });

  it('maps a database closed to new connections (55000 on connect) to DATABASE_UNAVAILABLE, other 55000s pass through', () => {
    expect(isConnectionError(withCode('55000', 'database "app" is not currently accepting connections'))).toBe(true);
    expect(isConnectionError(withCode('55000', 'currval of sequence "s" is not yet defined in this session'))).toBe(
      false,
    );
  });

  it('passes query errors through untouched (they are bugs, not outages)', () => {
    for (const code of ['23505', '42P01', '22P02']) {
      const original = withCode(code);
      expect(classifyDatabaseError(original)).toBe(original);
      expect(isConnectionError(original)).toBe(false);
    }
  });
});
