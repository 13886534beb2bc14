// The diagnosis as Slack shows it: the threaded reply (verdict, evidence, ranked causes, the
// suggested fix, buttons) and its plain-text form for a response_url. Pure: a Diagnosis in, a
// message out, inside Slack's limits: long evidence is cut with "…and N more" rather than failing to post.
import type { Button, KnownBlock, MrkdwnElement, SectionBlock } from '@slack/types';
import { CAUSE_TITLES } from '../core/classify';
import { plural } from '../core/format';
import type { Cause, Diagnosis, Recommendation, Verdict } from '../core/types';
import { ACTION_IDS } from './action-ids';
import {
  actions,
  blockTextSize,
  bulletSection,
  button,
  capBlocks,
  context,
  dateToken,
  field,
  LIMITS,
  messageText,
  mrkdwn,
  packBullets,
  section,
  untrusted,
  workloadWords,
  type BlockKitMessage,
} from './block-kit';
import { code, codeBlock, escapeMrkdwn, oneLine, slackDates, truncate } from './escape';

export interface DiagnosisMessageOptions {
  applyEnabled: boolean;
  /** Shown when Apply is off, e.g. "applying is turned off for this cluster" or "you are not in the on-call group". */
  applyUnavailableReason?: string;
  /** Id of the stored suggestion the Apply button acts on; the button carries this id only, never the patch. */
  suggestionId?: string;
  /** Value of the Re-run button (at most 2000 characters), handed back in the block_actions payload. */
  rerunValue: string;
}

const VERDICT_EMOJI: Record<Verdict, string> = {
  'cgroup-oom': ':boom:',
  'node-pressure-eviction': ':warning:',
  'sigkill-not-oom': ':no_entry_sign:',
  'child-process-oom': ':ghost:',
  'no-oom-found': ':white_check_mark:',
};

const MAX_CAUSES = 4;

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** "▰▰▰▰▰▰▰▰▰▱" for 0.95: cells are rounded down, so only a confidence of 1 fills the bar. */
export function confidenceBar(confidence: number): string {
  const clamped = Number.isFinite(confidence) ? Math.min(1, Math.max(0, confidence)) : 0;
  const filled = Math.floor(clamped * 10 + 1e-9);
  return `${'▰'.repeat(filled)}${'▱'.repeat(10 - filled)}`;
}

/** An ISO time as "2026-11-28 11:02 UTC", rewritten by slackDates for the reader's zone. */
function windowTime(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? dateToken(ms) : escapeMrkdwn(truncate(iso, 40));
}

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
  const where = workloadWords(r.workload, r.container);
  const fields: MrkdwnElement[] = [
    field(`*requests.memory*\n${change(current.requests.memory, r.resources.requests.memory)}`),
    field(`*limits.memory*\n${change(current.limits.memory, r.resources.limits.memory)}`),
  ];
  const extra: string[] = [
    ...r.env.map((e) => `*env* ${code(e.name, 100)}\n${code(e.value, 200)}`),
    ...(r.args ? ['*args*\nchanged (see the patch)'] : []),
    ...(r.command ? ['*command*\nchanged (see the patch)'] : []),
  ];
  const room = LIMITS.fields - fields.length;
  const fits = extra.length <= room ? extra : extra.slice(0, room - 1);
  for (const f of fits) fields.push(field(f));
  if (fits.length < extra.length)
    fields.push(field(`*…and ${extra.length - fits.length} more*\nsee the patch`));
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
function diagnosisBody(d: Diagnosis, budget: number): KnownBlock[] {
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
export function diagnosisMessage(d: Diagnosis, opts: DiagnosisMessageOptions): BlockKitMessage {
  const tail = diagnosisTail(d, opts);
  const limit = LIMITS.blockText - blockTextSize(tail);
  let budget = limit;
  let body = diagnosisBody(d, budget);
  // The shares are estimates: shrink the budget by the overshoot until the whole fits.
  for (let i = 0; i < 5 && blockTextSize(body) > limit; i += 1) {
    budget -= blockTextSize(body) - limit + 200;
    body = diagnosisBody(d, Math.max(0, budget));
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
// A plain-text answer through response_url

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
