// Block Kit primitives every message is built from: text objects, blocks and buttons that stay
// inside Slack's limits, and the escaped phrases messages share (a mention, a workload, a time).
// Pure: no SDK calls, no I/O. Untrusted text is escaped here or by escape.ts, never by a message.
import type {
  ActionsBlock,
  Button,
  ContextBlock,
  KnownBlock,
  MrkdwnElement,
  SectionBlock,
} from '@slack/types';
import type { SlackMessage } from '../adapters/slack-wire';
import { formatTime, plural } from '../core/format';
import { code, escapeMrkdwn, oneLine, plainText, slackDates, truncate } from './escape';

/** What every builder returns: the wire's message, its blocks always present and typed. */
export interface BlockKitMessage extends SlackMessage {
  blocks: KnownBlock[];
}

/** Slack's documented limits (docs.slack.dev, Block Kit reference), and the few the builders add. */
export const LIMITS = {
  blocks: 50,
  sectionText: 3000,
  fieldText: 2000,
  fields: 10,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  /** A button's `value`: longer is refused by `button()`, since a cut value would break when pressed. */
  buttonValue: 2000,
  headerText: 150,
  modalTitle: 24,
  /** The builders' own bound for `text` (Slack allows more, notifications show far less). */
  messageText: 3000,
  /**
   * All `text` strings of a message's blocks together. Undocumented: chat.postMessage answers
   * msg_blocks_too_long from about 12,000 characters (slackapi/bolt-js#2509, #2867), so stay well below.
   */
  blockText: 10_000,
} as const;

/** Characters per line of untrusted text, unless a builder asks for another bound. */
export const LINE_MAX = 700;

/** Bulleted lines per list before "…and N more". */
const MAX_LINES = 12;

// ---------------------------------------------------------------------------------------------
// Text objects and blocks

/** A mrkdwn text object cut to `max`; never empty, which Slack rejects. */
export function mrkdwn(text: string, max: number = LIMITS.sectionText): MrkdwnElement {
  const bounded = truncate(text, max);
  return { type: 'mrkdwn', text: bounded.trim() === '' ? ' ' : bounded };
}

/** One of a section's `fields`. */
export function field(text: string): MrkdwnElement {
  return mrkdwn(text, LIMITS.fieldText);
}

export function section(text: string): SectionBlock {
  return { type: 'section', text: mrkdwn(text) };
}

/** A context block of the non-empty texts, at most Slack's ten elements. */
export function context(...texts: string[]): ContextBlock {
  const kept = texts.filter((t) => t.trim() !== '').slice(0, LIMITS.contextElements);
  return { type: 'context', elements: (kept.length > 0 ? kept : [' ']).map((t) => mrkdwn(t)) };
}

/**
 * A button. Its label is untrusted text, escaped and cut; its value is what the handler receives
 * back, so it is never cut: a value over Slack's limit is a bug and throws (a RangeError, which the
 * jobs report as `internal`) rather than post a button that fails when pressed.
 */
export function button(text: string, actionId: string, value: string, style?: 'primary' | 'danger'): Button {
  if (value.length > LIMITS.buttonValue) {
    throw new RangeError(
      `button ${actionId}: value has ${value.length} characters, Slack allows ${LIMITS.buttonValue}`,
    );
  }
  const b: Button = {
    type: 'button',
    text: { type: 'plain_text', text: truncate(plainText(text) || ' ', LIMITS.buttonText), emoji: true },
    action_id: actionId,
    value,
  };
  if (style) b.style = style;
  return b;
}

export function actions(elements: Button[]): ActionsBlock {
  return { type: 'actions', elements: elements.slice(0, LIMITS.actionsElements) };
}

/** A message's `text`, cut to the builders' bound and never empty. */
export function messageText(text: string): string {
  const bounded = truncate(text, LIMITS.messageText);
  return bounded.trim() === '' ? ' ' : bounded;
}

// ---------------------------------------------------------------------------------------------
// Phrases

/** Untrusted text as one escaped mrkdwn line, its evidence times as Slack date tokens. */
export function untrusted(text: string, max = LINE_MAX): string {
  return slackDates(truncate(escapeMrkdwn(oneLine(text)), max));
}

/** A Slack user id (U…/W…) as a mention; anything else is escaped, not put inside a mention token. */
export function mention(userId: string): string {
  return /^[UW][A-Z0-9]{2,30}$/.test(userId) ? `<@${userId}>` : escapeMrkdwn(truncate(oneLine(userId), 60));
}

/** A time as a Slack date token, shown in each reader's zone; "2026-11-28 11:02 UTC" is the fallback. */
export function dateToken(ms: number): string {
  return slackDates(formatTime(ms));
}

/** "Deployment `shop/checkout`, container `api`". */
export function workloadWords(
  workload: { kind: string; namespace: string; name: string },
  container: string,
): string {
  return `${escapeMrkdwn(workload.kind)} ${code(`${workload.namespace}/${workload.name}`, 320)}, container ${code(container, 100)}`;
}

/** A link Slack will render as `<url|label>`, or null for anything but a plain http(s) URL. */
export function safeLink(url: string, label: string): string | null {
  if (!/^https?:\/\/[^\s<>|]+$/i.test(url) || url.length > 1000) return null;
  return `<${url.replace(/&(?!amp;)/g, '&amp;')}|${label}>`;
}

// ---------------------------------------------------------------------------------------------
// Fitting a message inside Slack's limits

/** The characters Slack counts against a message's cumulative block text limit: every `text` string. */
export function blockTextSize(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, v) => sum + blockTextSize(v), 0);
  if (value === null || typeof value !== 'object') return 0;
  let sum = 0;
  for (const [key, v] of Object.entries(value))
    sum += key === 'text' && typeof v === 'string' ? v.length : blockTextSize(v);
  return sum;
}

/** Keeps a message at 50 blocks: the middle is cut, the last `keepTail` blocks (actions, footer) stay. */
export function capBlocks(blocks: KnownBlock[], keepTail: number): KnownBlock[] {
  if (blocks.length <= LIMITS.blocks) return blocks;
  const tail = blocks.slice(blocks.length - keepTail);
  const head = blocks.slice(0, LIMITS.blocks - keepTail - 1);
  const cut = blocks.length - keepTail - head.length;
  return [
    ...head,
    context(`…and ${plural(cut, 'more section')}, cut to fit Slack's limit of ${LIMITS.blocks} blocks`),
    ...tail,
  ];
}

export interface PackOptions {
  /** Starts the first text, e.g. "*Notes*". */
  title?: string;
  maxBlocks?: number;
  maxLines?: number;
  /** Characters per text (at most 3000, a section's limit). */
  maxChars?: number;
  /** Characters over all texts. */
  totalChars?: number;
}

/**
 * Packs mrkdwn lines as "• line" into at most `maxBlocks` texts within the character budgets, the
 * first one starting with `title`. What does not fit (or passes `maxLines`) becomes "…and N more".
 */
export function packBullets(lines: string[], opts: PackOptions = {}): string[] {
  const maxBlocks = Math.max(1, opts.maxBlocks ?? 1);
  const maxLines = Math.min(lines.length, opts.maxLines ?? MAX_LINES);
  const perText = Math.min(LIMITS.sectionText, opts.maxChars ?? LIMITS.sectionText);
  const reserve = 20; // room for "\n…and 12345 more"
  const texts: string[] = [];
  let used = 0; // characters in `texts`
  let current = opts.title ?? '';
  let bulletsInCurrent = 0;
  let shown = 0;
  for (; shown < maxLines; shown += 1) {
    const sep = current === '' ? '' : '\n';
    const limit = Math.min(perText, (opts.totalChars ?? Number.POSITIVE_INFINITY) - used) - reserve;
    let bullet = `• ${truncate(lines[shown] as string, LINE_MAX + 200)}`;
    const room = limit - current.length - sep.length;
    // The first line of a text is cut to fit rather than dropped, while a useful part of it fits.
    if (bullet.length > room && bulletsInCurrent === 0 && room >= 60) bullet = truncate(bullet, room);
    if (bullet.length <= room) {
      current += sep + bullet;
      bulletsInCurrent += 1;
      continue;
    }
    if (texts.length === maxBlocks - 1 || bulletsInCurrent === 0) break;
    texts.push(current);
    used += current.length;
    current = '';
    bulletsInCurrent = 0;
    shown -= 1; // try this line again in the next text
  }
  const rest = lines.length - shown;
  const more = `…and ${rest} more`;
  if (rest > 0 && current === '' && texts.length > 0) texts[texts.length - 1] += `\n${more}`;
  else if (rest > 0) current += `${current === '' ? '' : '\n'}${more}`;
  if (current !== '') texts.push(current);
  return texts;
}

/** A section of bulleted lines under a title, in one section's characters. */
export function bulletSection(
  title: string,
  lines: string[],
  maxChars: number = LIMITS.sectionText,
): SectionBlock {
  return section(packBullets(lines, { title, maxChars })[0] ?? title);
}
