// Making untrusted text safe for Slack mrkdwn. Pod names, event messages and evidence lines come from
// the cluster, so they may hold `<!channel>`, `<@U123>`, forged `<http://evil|link>` or `@here`.
import { EVIDENCE_TIME_PATTERN } from '../core/format';

/** U+200D ZERO WIDTH JOINER: invisible, and enough to stop Slack from turning `@here` into a mention. */
const ZWJ = '\u200D';

/** U+200B ZERO WIDTH SPACE: splits a run of backticks so that it cannot open or close a code block. */
const ZWSP = '\u200B';

/**
 * Escapes Slack's three control characters (`&`, `<`, `>`) and breaks the `@channel`, `@here` and
 * `@everyone` auto-mentions. The result is mrkdwn that says exactly what the input said. A run of
 * three or more backticks is split with a zero-width space, so it cannot turn the rest of our
 * message into a code block; single backticks and `*_~` are left alone (at worst they format).
 */
export function escapeMrkdwn(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/@(channel|here|everyone)/gi, `@${ZWJ}$1`)
    .replace(/`(?=``)/g, `\`${ZWSP}`);
}

/**
 * Untrusted text for a `plain_text` object (button labels, confirm dialogs). Slack shows plain text as
 * written, but `<` and `>` are dropped anyway so that nothing token-like reaches Slack, and the
 * auto-mentions are broken as in mrkdwn. Kubernetes names never contain either character.
 */
export function plainText(text: string): string {
  return oneLine(text)
    .replace(/[<>]/g, '')
    .replace(/@(channel|here|everyone)/gi, `@${ZWJ}$1`);
}

/**
 * An identifier (pod name, namespace, label) as an inline code span. Backticks and line breaks are
 * removed (they would end the span), the rest is escaped. `max` bounds the value's length before wrapping.
 */
export function code(text: string, max = Number.POSITIVE_INFINITY): string {
  const value = text
    .replace(/`/g, '')
    .replace(/[\r\n]+/g, ' ')
    .trim();
  if (value === '') return '_(empty)_';
  return `\`${truncate(escapeMrkdwn(value), max)}\``;
}

/**
 * A multi-line value as a ``` block. Escaped like the rest; a run of backticks inside is broken with a
 * zero-width space so it cannot close the block early.
 */
export function codeBlock(text: string): string {
  const body = escapeMrkdwn(text.replace(/\s+$/, '')).replace(/`(?=`)/g, `\`${ZWSP}`);
  return `\`\`\`${body === '' ? ' ' : body}\`\`\``;
}

/** Joins a multi-line value into one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/**
 * Rewrites each "YYYY-MM-DD HH:MM UTC" (the evidence time format) into a Slack date token, so that each
 * reader sees the time in their own zone; the original text is the fallback. Run it after escaping.
 */
export function slackDates(escapedText: string): string {
  return escapedText.replace(
    new RegExp(EVIDENCE_TIME_PATTERN.source, 'g'),
    (match: string, date: string, time: string) => {
      const ms = Date.parse(`${date}T${time}:00Z`);
      // Reject what Date.parse quietly rolls over (2026-02-30, 24:00): the token would show another time.
      if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 16) !== `${date}T${time}`) return match;
      return `<!date^${ms / 1000}^{date_short_pretty} {time}|${match}>`;
    },
  );
}

/**
 * Cuts `text` to at most `max` UTF-16 units, ending in "…". Never splits a surrogate pair, an escape
 * entity (`&amp;`) or a Slack token (`<!date^…|…>`): the cut moves back before them.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  if (max === 1) return '…';
  let cut = max - 1;
  const before = text.charCodeAt(cut - 1);
  if (before >= 0xd800 && before <= 0xdbff) cut -= 1;
  // An entity cut open: "&am" (at most "&#x10ffff;" long).
  const amp = text.lastIndexOf('&', cut - 1);
  if (
    amp >= 0 &&
    cut - amp < 10 &&
    !text.slice(amp, cut).includes(';') &&
    /^&#?[a-z0-9]*$/i.test(text.slice(amp, cut))
  )
    cut = amp;
  // A token cut open: "<!date^123^{time}|2026-".
  const open = text.lastIndexOf('<', cut - 1);
  if (open >= 0 && !text.slice(open, cut).includes('>')) cut = open;
  return `${text.slice(0, cut).trimEnd()}…`;
}
