// Assertions shared by the parser tests: a parser fails with one ParseError and nothing else.
import { ParseError } from '../../../src/core/errors';

/** The ParseError that fn throws; fails the test when it throws something else, or nothing. */
export function parseErrorOf(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ParseError) return err;
    throw new Error(`expected a ParseError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a ParseError, got no error');
}

/** Fails when fn throws anything but a ParseError with a short, one-line message. */
export function onlyParseErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    expect(err.message).not.toMatch(/\n/);
    expect(err.message.length).toBeLessThan(300);
  }
}
