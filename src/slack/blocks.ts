// Block Kit messages for the Slack bot. Pure: props in, `{ text, blocks }` out; no SDK calls, no I/O.
// Every value that comes from the cluster is escaped (escape.ts), and every builder stays inside
// Slack's limits (LIMITS), cutting long evidence with "…and N more" rather than failing to post.
import type {
  ActionsBlock,
  Button,
  ContextBlock,
  KnownBlock,
  MrkdwnElement,
  SectionBlock,
} from '@slack/types';
import { CAUSE_TITLES } from '../core/classify';
import { formatTime, ordinal, plural } from '../core/format';
import type { Cause, Diagnosis, Recommendation, Verdict } from '../core/types';
import { code, codeBlock, escapeMrkdwn, oneLine, plainText, slackDates, truncate } from './escape';

/** A message as chat.postMessage / chat.update / respond() take it. `text` is the notification and fallback text (mrkdwn). */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** Slack's documented limits, and the few the builders add for readability. */
export const LIMITS = {
  blocks: 50,
  sectionText: 3000,
  fieldText: 2000,
  fields: 10,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  headerText: 150,
  /** The builders' own bound for `text` (Slack allows more, notifications show far less). */
  messageText: 3000,
  /**
   * All `text` strings of a message's blocks together. Undocumented: chat.postMessage answers
   * msg_blocks_too_long from about 12,000 characters (slackapi/bolt-js#2509, #2867), so stay well below.
   */
  blockText: 10_000,
} as const;

/** Action ids the bot's interactivity handlers listen for. */
export const ACTION_IDS = {
  rerun: 'oom_rerun',
  apply: 'oom_apply',
  /** `oom_pick_pod_<i>`: match with /^oom_pick_pod_\d+$/. */
  pickPodPrefix: 'oom_pick_pod_',
} as const;

export type ProgressStage = 'queued' | 'resolving' | 'gathering' | 'querying-prometheus' | 'classifying';

export interface TargetRef {
  namespace: string;
  pod: string;
  container?: string;
}

export interface DiagnosisMessageOptions {
  applyEnabled: boolean;
  /** Shown when Apply is off, e.g. "applying is turned off for this cluster" or "you are not in the on-call group". */
  applyUnavailableReason?: string;
  /** Id of the stored suggestion the Apply button acts on; the button carries this id only, never the patch. */
  suggestionId?: string;
  /** Value of the Re-run button (at most 2000 characters), handed back in the block_actions payload. */
  rerunValue: string;
  /** "3rd OOM kill of shop/api-1 in 40 min"; `subject` defaults to namespace/pod. */
  killCount?: { count: number; windowText: string; subject?: string };
}

export interface GroupParentProps {
  clusterName: string;
  alertName: string;
  status: 'firing' | 'resolved';
  workloads: Array<{ key: string; label: string; status: string; link?: string }>;
  undiagnosable: Array<{ label: string; why: string }>;
  notOomCount: number;
  commandBy?: { userId: string; text: string };
  /** An incident about one namespace, or a storm folding many (its title then summarises). */
  scope?: { kind: 'namespace'; namespace: string } | { kind: 'storm'; namespaces: number };
  /** Alerts Alertmanager left out of its deliveries (max_alerts). */
  truncatedAlerts?: number;
}

const VERDICT_EMOJI: Record<Verdict, string> = {
  'cgroup-oom': ':boom:',
  'node-pressure-eviction': ':warning:',
  'sigkill-not-oom': ':no_entry_sign:',
  'child-process-oom': ':ghost:',
  'no-oom-found': ':white_check_mark:',
};

/** Lines per bulleted list before "…and N more", and characters per line. */
const MAX_LINES = 12;
const LINE_MAX = 700;
const MAX_CAUSES = 4;

// ---------------------------------------------------------------------------------------------
// Small builders

function mrkdwn(text: string, max: number = LIMITS.sectionText): MrkdwnElement {
  const bounded = truncate(text, max);
  // Slack rejects empty text objects.
  return { type: 'mrkdwn', text: bounded.trim() === '' ? ' ' : bounded };
}

function section(text: string): SectionBlock {
  return { type: 'section', text: mrkdwn(text) };
}

function context(...texts: string[]): ContextBlock {
  const kept = texts.filter((t) => t.trim() !== '').slice(0, LIMITS.contextElements);
  return { type: 'context', elements: (kept.length > 0 ? kept : [' ']).map((t) => mrkdwn(t)) };
}

function button(text: string, actionId: string, value: string, style?: 'primary' | 'danger'): Button {
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

function actions(elements: Button[]): ActionsBlock {
  return { type: 'actions', elements: elements.slice(0, LIMITS.actionsElements) };
}

/** Untrusted text as one escaped mrkdwn line, its evidence times as Slack date tokens. */
function untrusted(text: string, max = LINE_MAX): string {
  return slackDates(truncate(escapeMrkdwn(oneLine(text)), max));
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** "▰▰▰▰▰▰▰▰▰▱" for 0.95: cells are rounded down, so only a confidence of 1 fills the bar. */
export function confidenceBar(confidence: number): string {
  const clamped = Number.isFinite(confidence) ? Math.min(1, Math.max(0, confidence)) : 0;
  const filled = Math.floor(clamped * 10 + 1e-9);
  return `${'▰'.repeat(filled)}${'▱'.repeat(10 - filled)}`;
}

interface PackOptions {
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
function packBullets(lines: string[], opts: PackOptions = {}): string[] {
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

function bulletSection(title: string, lines: string[], maxChars: number = LIMITS.sectionText): SectionBlock {
  return section(packBullets(lines, { title, maxChars })[0] ?? title);
}

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
function capBlocks(blocks: KnownBlock[], keepTail: number): KnownBlock[] {
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

function messageText(text: string): string {
  const bounded = truncate(text, LIMITS.messageText);
  return bounded.trim() === '' ? ' ' : bounded;
}

function targetCode(t: TargetRef): string {
  return code(`${t.namespace}/${t.pod}`, 320);
}

function targetWords(t: TargetRef): string {
  return `${targetCode(t)}${t.container ? ` (container ${code(t.container, 100)})` : ''}`;
}

/** An ISO time as "2026-11-28 11:02 UTC", rewritten by slackDates for the reader's zone. */
function windowTime(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? slackDates(formatTime(ms)) : escapeMrkdwn(truncate(iso, 40));
}

/** A link Slack will render as `<url|label>`, or null for anything but a plain http(s) URL. */
function safeLink(url: string, label: string): string | null {
  if (!/^https?:\/\/[^\s<>|]+$/i.test(url) || url.length > 1000) return null;
  return `<${url.replace(/&(?!amp;)/g, '&amp;')}|${label}>`;
}

/** A Slack user id (U…/W…); anything else is not put inside a mention token. */
function mention(userId: string): string {
  return /^[UW][A-Z0-9]{2,30}$/.test(userId) ? `<@${userId}>` : escapeMrkdwn(truncate(oneLine(userId), 60));
}

// ---------------------------------------------------------------------------------------------
// 1. The diagnosis

function quantity(value: string | null): string {
  return value ? code(value, 60) : '(none)';
}

function change(before: string | null, after: string): string {
  if (!after) return `${quantity(before)} (unchanged)`;
  if (before === after) return `${quantity(before)} (unchanged)`;
  return `${quantity(before)} → ${code(after, 60)}`;
}

function runtimeNow(d: Diagnosis): string {
  return d.current.runtime
    .map((r) => `${code(r.value, 200)} (${escapeMrkdwn(truncate(oneLine(r.source), 200))})`)
    .join(', ');
}

function nowLine(d: Diagnosis): string {
  const current = d.current.resources;
  const runtime = runtimeNow(d);
  return `Now: requests.memory ${quantity(current.requests.memory)}, limits.memory ${quantity(current.limits.memory)}${runtime ? `; ${runtime}` : ''}`;
}

function noChangeLine(verdict: Verdict): string {
  switch (verdict) {
    case 'sigkill-not-oom':
      return 'No resource change is suggested: the OOM killer did not send this SIGKILL, so more memory would not help here.';
    case 'no-oom-found':
      return 'No resource change is suggested: no OOM kill was found in the window, so more memory would not help here.';
    default:
      return 'No resource change is suggested: more memory would not help here.';
  }
}

function causeSection(cause: Cause, index: number, heading: string, maxChars: number): SectionBlock {
  const title = capitalize(CAUSE_TITLES[cause.id] ?? String(cause.id));
  const confidence = Number.isFinite(cause.confidence) ? cause.confidence.toFixed(2) : '0.00';
  const head = `${heading}*${index + 1}. ${escapeMrkdwn(truncate(oneLine(title), 200))}* · confidence ${confidence} ${confidenceBar(cause.confidence)}`;
  return section(
    packBullets(
      cause.evidence.map((e) => untrusted(e)),
      { title: head, maxChars },
    )[0] ?? head,
  );
}

/** The suggested change: where, and old → new in a field grid (requests, limits, env, args). */
function fixSection(d: Diagnosis, r: Recommendation): SectionBlock {
  const current = d.current.resources;
  const runtime = truncate(runtimeNow(d), 600);
  const where = `${escapeMrkdwn(r.workload.kind)} ${code(`${r.workload.namespace}/${r.workload.name}`, 320)}, container ${code(r.container, 100)}`;
  const fields: MrkdwnElement[] = [
    mrkdwn(
      `*requests.memory*\n${change(current.requests.memory, r.resources.requests.memory)}`,
      LIMITS.fieldText,
    ),
    mrkdwn(`*limits.memory*\n${change(current.limits.memory, r.resources.limits.memory)}`, LIMITS.fieldText),
  ];
  const extra: string[] = [
    ...r.env.map((e) => `*env* ${code(e.name, 100)}\n${code(e.value, 200)}`),
    ...(r.args ? ['*args*\nchanged (see the patch)'] : []),
    ...(r.command ? ['*command*\nchanged (see the patch)'] : []),
  ];
  const room = LIMITS.fields - fields.length;
  const fits = extra.length <= room ? extra : extra.slice(0, room - 1);
  for (const f of fits) fields.push(mrkdwn(f, LIMITS.fieldText));
  if (fits.length < extra.length)
    fields.push(mrkdwn(`*…and ${extra.length - fits.length} more*\nsee the patch`, LIMITS.fieldText));
  return {
    type: 'section',
    text: mrkdwn(`:wrench: *Suggested fix* for ${where}${runtime ? `\nNow: ${runtime}` : ''}`),
    fields,
  };
}

/** The kubectl line in a code block, whole or not at all: a cut command must never be pasted. */
function kubectlSection(
  d: Diagnosis,
  r: Recommendation,
  maxChars: number,
): { block: SectionBlock; shown: boolean } {
  const text = `*Apply with:*\n${codeBlock(r.kubectl)}`;
  if (text.length <= Math.min(maxChars, LIMITS.sectionText)) return { block: section(text), shown: true };
  return {
    block: section(
      `*Apply with:* the kubectl command has ${r.kubectl.length} characters, too many to show here: use the YAML patch below, or run ${code(`oomdoctor diagnose ${d.target.namespace}/${d.target.pod}`, 340)} in a terminal.`,
    ),
    shown: false,
  };
}

/** The patch as a code block; cut at a line boundary with a note when it does not fit. */
function yamlSection(yaml: string, kubectlShown: boolean, maxChars: number): string {
  const max = Math.min(maxChars, LIMITS.sectionText);
  const title = '*Or as YAML* (strategic merge patch):\n';
  const full = `${title}${codeBlock(yaml)}`;
  if (full.length <= max) return full;
  const lines = yaml
    .trimEnd()
    .split('\n')
    .map((l) => truncate(l, 400));
  const where = kubectlShown
    ? 'the kubectl command above has the whole patch'
    : 'run oomdoctor in a terminal for the whole patch';
  for (let keep = lines.length - 1; keep >= 1; keep -= 1) {
    const note = `# …${plural(lines.length - keep, 'more line')} cut: ${where}`;
    const text = `${title}${codeBlock([...lines.slice(0, keep), note].join('\n'))}`;
    if (text.length <= max) return text;
  }
  return `${title}_The patch is too long to show here: ${where}._`;
}

/** The buttons, the reason Apply is off, and the footer: these always stay. */
function diagnosisTail(d: Diagnosis, opts: DiagnosisMessageOptions): KnownBlock[] {
  const r = d.recommendation;
  const tail: KnownBlock[] = [];
  const buttons: Button[] = [button('Re-run diagnosis', ACTION_IDS.rerun, opts.rerunValue)];
  let unavailable: string | null = null;
  if (opts.applyEnabled && opts.suggestionId && r) {
    if (r.workload.kind === 'Pod') {
      unavailable = `${code(`${r.workload.namespace}/${r.workload.name}`, 320)} is a bare pod: there is no controller to patch.`;
    } else {
      // No confirm dialog here: the button opens a modal that shows the dry-run diff and asks once.
      const apply = button('Apply fix', ACTION_IDS.apply, opts.suggestionId, 'primary');
      buttons.push(apply);
    }
  } else if (!opts.applyEnabled && opts.applyUnavailableReason) {
    unavailable = escapeMrkdwn(truncate(oneLine(opts.applyUnavailableReason), 500));
  }
  tail.push(actions(buttons));
  if (unavailable) tail.push(context(`:lock: Apply is not available: ${unavailable}`));
  tail.push(
    context(
      `Window ${windowTime(d.window.start)} → ${windowTime(d.window.end)}`,
      `${code(`${d.target.namespace}/${d.target.pod}`, 320)} · container ${code(d.target.container, 100)}`,
      'oomdoctor',
    ),
  );
  return tail;
}

/** Everything above the buttons, in the text report's order, spending at most about `budget` characters. */
function diagnosisBody(d: Diagnosis, opts: DiagnosisMessageOptions, budget: number): KnownBlock[] {
  let remaining = budget;
  const spend = <T extends KnownBlock>(block: T): T => {
    remaining -= blockTextSize(block);
    return block;
  };
  /** A share of what is left for one part, at least `min`, at most a section. */
  const share = (fraction: number, min: number) =>
    Math.max(min, Math.min(LIMITS.sectionText, Math.floor(remaining * fraction)));

  // Built in order of importance, shown in reading order.
  const headline = oneLine(d.headline) || `Verdict: ${d.verdict}`;
  const head: KnownBlock[] = [
    spend(
      section(`${VERDICT_EMOJI[d.verdict] ?? ':mag:'} ${slackDates(truncate(escapeMrkdwn(headline), 700))}`),
    ),
  ];
  if (opts.killCount && opts.killCount.count > 0) {
    const subject = opts.killCount.subject ?? `${d.target.namespace}/${d.target.pod}`;
    head.push(
      spend(
        context(
          `:repeat: ${ordinal(opts.killCount.count)} OOM kill of ${code(subject, 320)} in ${escapeMrkdwn(truncate(oneLine(opts.killCount.windowText), 100))}`,
        ),
      ),
    );
  }
  const r = d.recommendation;
  const fix: KnownBlock[] = r
    ? [spend(fixSection(d, r))]
    : [
        spend(section(`:information_source: ${noChangeLine(d.verdict)}`)),
        spend(context(truncate(nowLine(d), 1000))),
      ];
  const kubectl = r ? kubectlSection(d, r, remaining - 2500) : null;
  if (kubectl) spend(kubectl.block);
  const verdictTitle = `*Verdict* ${code(d.verdict, 60)}`;
  const verdict = spend(
    d.verdictEvidence.length > 0
      ? bulletSection(
          verdictTitle,
          d.verdictEvidence.map((e) => untrusted(e)),
          share(0.3, 400),
        )
      : section(verdictTitle),
  );
  const shownCauses = d.causes.slice(0, MAX_CAUSES);
  const causes: KnownBlock[] = shownCauses.map((cause, i) =>
    spend(
      causeSection(cause, i, i === 0 ? '*Causes, most likely first*\n' : '', share(i === 0 ? 0.3 : 0.2, 250)),
    ),
  );
  if (d.causes.length > shownCauses.length)
    causes.push(spend(context(`…and ${plural(d.causes.length - shownCauses.length, 'more cause')}`)));
  const missing =
    d.missing.length > 0
      ? [
          spend(
            bulletSection(
              ':warning: *Could not gather*',
              d.missing.map((m) => untrusted(m)),
              share(0.4, 250),
            ),
          ),
        ]
      : [];
  const yaml = r ? [spend(section(yamlSection(r.yaml, kubectl?.shown ?? false, share(0.5, 200))))] : [];
  const notes =
    r && r.notes.length > 0
      ? [
          spend(
            bulletSection(
              '*Notes*',
              r.notes.map((n) => untrusted(n)),
              share(1, 250),
            ),
          ),
        ]
      : [];

  return [
    ...head,
    verdict,
    ...causes,
    ...fix,
    ...notes,
    ...(kubectl ? [kubectl.block] : []),
    ...yaml,
    ...missing,
  ];
}

/** The diagnosis as the threaded reply: verdict, evidence, ranked causes, the suggested fix, buttons. */
export function diagnosisMessage(d: Diagnosis, opts: DiagnosisMessageOptions): SlackMessage {
  const tail = diagnosisTail(d, opts);
  const limit = LIMITS.blockText - blockTextSize(tail);
  let budget = limit;
  let body = diagnosisBody(d, opts, budget);
  // The shares are estimates: shrink the budget by the overshoot until the whole fits.
  for (let i = 0; i < 5 && blockTextSize(body) > limit; i += 1) {
    budget -= blockTextSize(body) - limit + 200;
    body = diagnosisBody(d, opts, Math.max(0, budget));
  }
  // Last resort: drop the largest blocks after the headline.
  while (blockTextSize(body) > limit && body.length > 1) {
    let largest = 1;
    for (let i = 2; i < body.length; i += 1)
      if (blockTextSize(body[i]) > blockTextSize(body[largest])) largest = i;
    body = [...body.slice(0, largest), ...body.slice(largest + 1)];
  }
  const headline = oneLine(d.headline) || `Verdict: ${d.verdict}`;
  return { text: messageText(escapeMrkdwn(headline)), blocks: capBlocks([...body, ...tail], tail.length) };
}

// ---------------------------------------------------------------------------------------------
// 2.–3. Progress and failure

const STAGES: Record<ProgressStage, { words: string; step: number | null }> = {
  queued: { words: 'waiting in the queue…', step: null },
  resolving: { words: 'finding the pod…', step: 1 },
  gathering: { words: 'reading the pod, its events and its node…', step: 2 },
  'querying-prometheus': { words: 'querying Prometheus…', step: 3 },
  classifying: { words: 'working out the cause…', step: 4 },
};
const STEP_COUNT = 4;

/** The placeholder reply while the job runs; chat.update it with the next stage, then with the diagnosis. */
export function progressMessage(target: TargetRef, stage: ProgressStage, attempt?: number): SlackMessage {
  const s = STAGES[stage] ?? STAGES.queued;
  const step = s.step === null ? '' : ` (step ${s.step} of ${STEP_COUNT})`;
  const retry = attempt !== undefined && attempt > 1 ? ` (retry ${attempt - 1})` : '';
  const line = `Diagnosing ${targetWords(target)}: ${s.words}${step}${retry}`;
  return { text: messageText(line), blocks: [section(`:hourglass_flowing_sand: ${line}`)] };
}

/** The reply when a job gives up: the reason in words, and a Re-run button. */
export function failureMessage(
  target: TargetRef,
  reason: string,
  opts: { rerunValue: string },
): SlackMessage {
  const line = `Could not diagnose ${targetWords(target)}: ${escapeMrkdwn(truncate(oneLine(reason) || 'unknown error', 1500))}`;
  return {
    text: messageText(line),
    blocks: [
      section(`:x: ${line}`),
      actions([button('Re-run diagnosis', ACTION_IDS.rerun, opts.rerunValue)]),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// 4. The alert group's parent message

/** The parent message of an alert group (or of a /oom request): one line per workload, linking its reply. */
export function groupParentMessage(props: GroupParentProps): SlackMessage {
  const cluster = code(props.clusterName, 100);
  let title: string;
  let text: string;
  if (props.commandBy) {
    const typed = oneLine(props.commandBy.text);
    const command = typed.startsWith('/') ? typed : `/oom ${typed}`;
    title = `:mag: ${code(command, 300)}, asked by ${mention(props.commandBy.userId)} in cluster ${cluster}`;
    text = `${escapeMrkdwn(truncate(command, 300))}, asked by ${mention(props.commandBy.userId)}`;
  } else {
    const scope = props.scope;
    const alert =
      scope?.kind === 'storm'
        ? `OOM storm: ${plural(props.workloads.length, 'workload')} in ${plural(scope.namespaces, 'namespace')}`
        : escapeMrkdwn(truncate(oneLine(props.alertName) || 'alert', 150));
    const where =
      scope?.kind === 'namespace'
        ? `in ${code(scope.namespace, 63)}, cluster ${cluster}`
        : `in cluster ${cluster}`;
    title =
      props.status === 'resolved'
        ? `:white_check_mark: Resolved: *${alert}* ${where}`
        : `:rotating_light: *${alert}* ${where}`;
    const whereText =
      scope?.kind === 'namespace'
        ? `in ${escapeMrkdwn(scope.namespace)}, cluster ${escapeMrkdwn(truncate(oneLine(props.clusterName), 100))}`
        : `in cluster ${escapeMrkdwn(truncate(oneLine(props.clusterName), 100))}`;
    text =
      scope?.kind === 'storm'
        ? `${props.status === 'resolved' ? 'Resolved: ' : ''}${alert}, ${whereText}`
        : `${props.status === 'resolved' ? 'Resolved: ' : ''}${alert} ${whereText}: ${plural(props.workloads.length, 'workload')}`;
  }

  const blocks: KnownBlock[] = [section(title)];
  const lines = props.workloads.map((w) => {
    const link = w.link ? safeLink(w.link, 'reply') : null;
    return `${code(w.label, 200)}: ${escapeMrkdwn(truncate(oneLine(w.status), 300))}${link ? ` · ${link}` : ''}`;
  });
  // Leave room for the undiagnosable list (at most 1500 characters) and the not-OOM note.
  const workloadChars = LIMITS.blockText - blockTextSize(blocks) - 1700;
  for (const t of packBullets(lines, {
    maxBlocks: LIMITS.blocks - 3,
    maxLines: lines.length,
    totalChars: workloadChars,
  }))
    blocks.push(section(t));
  if (props.undiagnosable.length > 0) {
    blocks.push(
      section(
        packBullets(
          props.undiagnosable.map(
            (u) => `${code(u.label, 200)}: ${escapeMrkdwn(truncate(oneLine(u.why), 300))}`,
          ),
          { title: ':grey_question: *Could not diagnose*', maxLines: 30, maxChars: 1500 },
        )[0] ?? ' ',
      ),
    );
  }
  if (props.truncatedAlerts && props.truncatedAlerts > 0) {
    blocks.push(
      context(
        `:scissors: Alertmanager left out ${plural(props.truncatedAlerts, 'alert')} of this group (its receiver's max_alerts); they are not listed here`,
      ),
    );
  }
  if (props.notOomCount > 0) {
    blocks.push(
      context(
        props.notOomCount === 1
          ? '1 crash loop was not an OOM kill'
          : `${props.notOomCount} crash loops were not OOM kills`,
      ),
    );
  }
  return { text: messageText(text), blocks: capBlocks(blocks, 0) };
}

// ---------------------------------------------------------------------------------------------
// 5.–7. The slash command's ephemeral answers

/** "Which pod?" when a bare pod name matched several pods: one button per match. */
export function podPickerMessage(
  query: string,
  matches: Array<{ namespace: string; pod: string }>,
): SlackMessage {
  const q = code(query, 300);
  if (matches.length === 0) {
    const line = `No pod matches ${q}. Try ${code('/oom <namespace>/<pod>')}.`;
    return { text: messageText(line), blocks: [section(`:mag: ${line}`)] };
  }
  const shown = matches.slice(0, LIMITS.actionsElements);
  const line = `${plural(matches.length, 'pod')} ${matches.length === 1 ? 'matches' : 'match'} ${q}. Which one?`;
  const blocks: KnownBlock[] = [
    section(`:mag: ${line}`),
    actions(
      shown.map((m, i) =>
        button(`${m.namespace}/${m.pod}`, `${ACTION_IDS.pickPodPrefix}${i}`, `${m.namespace}/${m.pod}`),
      ),
    ),
  ];
  if (matches.length > shown.length) {
    blocks.push(
      context(
        `…and ${matches.length - shown.length} more matched: type ${code('/oom <namespace>/<pod>')} to name one exactly.`,
      ),
    );
  }
  return { text: messageText(line), blocks };
}

/** Usage of the slash command. */
export function helpMessage(commandName = '/oom'): SlackMessage {
  const c = oneLine(commandName).replace(/`/g, '') || '/oom';
  const cmd = (rest: string) => code(`${c} ${rest}`.trim(), 200);
  const lines = [
    `${cmd('<namespace>/<pod>')}: diagnose one pod`,
    `${cmd('<pod>')}: find the pod by name in any namespace`,
    `${cmd('<namespace>/deploy/<name>')}: the workload's most recently killed pod; also ${code('sts/', 10)}, ${code('ds/', 10)} and ${code('cronjob/', 10)}`,
    `${cmd('help')}: this message`,
  ];
  const intro = `:stethoscope: ${code(c, 60)} tells you why a container was killed with exit 137 (OOMKilled or not) and what to change, in a thread in this channel.`;
  return {
    text: messageText(`${escapeMrkdwn(c)}: why a container was OOMKilled, and what to change`),
    blocks: [section(intro), section(packBullets(lines, { title: '*Usage*' })[0] ?? '*Usage*')],
  };
}

/** The ephemeral acknowledgement of a /oom request. `target` is what the user typed. */
export function commandAck(target: string): SlackMessage {
  const line = `Diagnosing ${code(target, 320)}… the answer will appear in this channel.`;
  return { text: messageText(line), blocks: [section(`:hourglass_flowing_sand: ${line}`)] };
}

// ---------------------------------------------------------------------------------------------
// 8. A plain-text answer through response_url

/** The diagnosis as one mrkdwn text (no blocks, no thread): headline, top causes, the kubectl line. At most 3000 characters. */
export function responseUrlText(d: Diagnosis): string {
  const max = LIMITS.messageText;
  const parts: string[] = [
    `${VERDICT_EMOJI[d.verdict] ?? ':mag:'} ${untrusted(d.headline || `Verdict: ${d.verdict}`, 1000)}`,
  ];
  const causes = d.causes
    .slice(0, 3)
    .map(
      (c, i) =>
        `${i + 1}. ${escapeMrkdwn(capitalize(CAUSE_TITLES[c.id] ?? String(c.id)))} (confidence ${Number.isFinite(c.confidence) ? c.confidence.toFixed(2) : '0.00'})`,
    );
  if (causes.length > 0) parts.push(`*Causes, most likely first*\n${causes.join('\n')}`);
  const r = d.recommendation;
  if (r) {
    const current = d.current.resources;
    parts.push(
      `*Suggested fix* for ${escapeMrkdwn(r.workload.kind)} ${code(`${r.workload.namespace}/${r.workload.name}`, 320)}: requests.memory ${change(current.requests.memory, r.resources.requests.memory)}, limits.memory ${change(current.limits.memory, r.resources.limits.memory)}${r.env.length > 0 ? `, ${r.env.map((e) => code(`${e.name}=${e.value}`, 300)).join(', ')}` : ''}`,
    );
  } else {
    parts.push(noChangeLine(d.verdict));
  }
  const head = truncate(parts.join('\n\n'), max - 200);
  if (!r) return head;
  const kubectl = codeBlock(r.kubectl);
  if (head.length + 2 + kubectl.length <= max) return `${head}\n\n${kubectl}`;
  return truncate(
    `${head}\n\nThe kubectl command is too long for this reply: run \`oomdoctor diagnose\` in a terminal for it.`,
    max,
  );
}
