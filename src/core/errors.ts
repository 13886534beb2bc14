// Errors of the pure core. Parsers throw ParseError and nothing else, whatever the input.

/**
 * Input that could not be understood. `message` is one sentence saying what was wrong and what
 * would be accepted; `field` names what was being parsed ("memory quantity", "target", "--window").
 */
export class ParseError extends Error {
  readonly field: string;

  constructor(field: string, message: string) {
    super(message);
    this.name = 'ParseError';
    this.field = field;
  }
}

const DISPLAY_CHARS = 40;

/**
 * Quotes user input for an error message: at most 40 characters, and anything that is not
 * printable ASCII shown as an escape (\u{41c} for a Cyrillic "М", \u{0} for NUL), so lookalikes
 * and control characters are visible and nothing odd reaches a terminal or a Slack message.
 */
export function quoteInput(text: string): string {
  let out = '';
  let count = 0;
  for (const ch of text) {
    if (count === DISPLAY_CHARS) {
      out += '...';
      break;
    }
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (code >= 0x20 && code <= 0x7e) out += ch;
    else out += `\\u{${code.toString(16)}}`;
    count += 1;
  }
  return `"${out}"`;
}

function isAsciiSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

/** Removes surrounding ASCII whitespace only (a no-break space is a character to report, not to hide). */
export function trimAscii(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isAsciiSpace(text.charCodeAt(start))) start += 1;
  while (end > start && isAsciiSpace(text.charCodeAt(end - 1))) end -= 1;
  return text.slice(start, end);
}

/**
 * The checks every parser starts with: a string, not blank, not longer than `maxLength` once
 * trimmed, printable ASCII only. Returns the trimmed text; `hint` ends each message with what
 * would be accepted ("use a number with a unit such as 512Mi").
 */
export function checkInputText(text: unknown, field: string, maxLength: number, hint: string): string {
  if (typeof text !== 'string') throw new ParseError(field, `${field} is missing: ${hint}`);
  const trimmed = trimAscii(text);
  if (trimmed === '') throw new ParseError(field, `${field} is empty: ${hint}`);
  if (trimmed.length > maxLength) {
    throw new ParseError(
      field,
      `${field} is too long (${trimmed.length} characters, at most ${maxLength}): ${hint}`,
    );
  }
  for (const ch of trimmed) {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20 || code > 0x7e) {
      const name = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
      throw new ParseError(
        field,
        `${field} ${quoteInput(trimmed)} contains ${name}, which is not a plain ASCII character: ${hint}`,
      );
    }
  }
  return trimmed;
}
