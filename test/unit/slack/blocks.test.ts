import type { KnownBlock } from '@slack/types';
import {
  ACTION_IDS,
  badTargetMessage,
  blockTextSize,
  commandAck,
  commandFailedMessage,
  diagnosisMessage,
  failureMessage,
  groupParentMessage,
  helpMessage,
  LIMITS,
  namespaceRefusedMessage,
  podPickerMessage,
  progressMessage,
  queueUnavailableMessage,
  responseUrlText,
  unusableRequestMessage,
  webhookRefusedMessage,
  type DiagnosisMessageOptions,
  type GroupParentProps,
  type BlockKitMessage,
} from '../../../src/slack/blocks';
import { floodOfEvidence, heapOom, hostile, missingSources, probeKill } from './diagnosis-fixtures';

// A loose view of the JSON, to walk any block.
interface AnyText {
  type: string;
  text: string;
}
interface AnyElement {
  type: string;
  text?: AnyText | string;
  action_id?: string;
  value?: string;
  style?: string;
  confirm?: { title: AnyText; text: AnyText; confirm: AnyText; deny: AnyText };
}
interface AnyBlock {
  type: string;
  text?: AnyText;
  fields?: AnyText[];
  elements?: AnyElement[];
}

const asAny = (blocks: KnownBlock[]): AnyBlock[] => blocks as unknown as AnyBlock[];

/** Every limit Slack enforces on what the builders produce; throws with the first violation. */
function expectWithinSlackLimits(message: BlockKitMessage): void {
  expect(message.text.length).toBeGreaterThan(0);
  expect(message.text.length).toBeLessThanOrEqual(LIMITS.messageText);
  expect(message.blocks.length).toBeGreaterThan(0);
  expect(message.blocks.length).toBeLessThanOrEqual(LIMITS.blocks);
  // Slack's undocumented cumulative limit (msg_blocks_too_long) is about 12,000 characters.
  expect(blockTextSize(message.blocks)).toBeLessThanOrEqual(LIMITS.blockText);
  const actionIds = new Set<string>();
  for (const block of asAny(message.blocks)) {
    if (block.type === 'section') {
      expect(block.text !== undefined || (block.fields ?? []).length > 0).toBe(true);
      if (block.text) {
        expect(block.text.text.length).toBeGreaterThan(0);
        expect(block.text.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
      }
      expect((block.fields ?? []).length).toBeLessThanOrEqual(LIMITS.fields);
      for (const f of block.fields ?? []) {
        expect(f.text.length).toBeGreaterThan(0);
        expect(f.text.length).toBeLessThanOrEqual(LIMITS.fieldText);
      }
    } else if (block.type === 'context') {
      const elements = block.elements ?? [];
      expect(elements.length).toBeGreaterThan(0);
      expect(elements.length).toBeLessThanOrEqual(LIMITS.contextElements);
      for (const e of elements) expect((e.text as string).length).toBeLessThanOrEqual(LIMITS.sectionText);
    } else if (block.type === 'actions') {
      const elements = block.elements ?? [];
      expect(elements.length).toBeGreaterThan(0);
      expect(elements.length).toBeLessThanOrEqual(LIMITS.actionsElements);
      for (const e of elements) {
        expect(e.type).toBe('button');
        const label = (e.text as AnyText).text;
        expect(label.length).toBeGreaterThan(0);
        expect(label.length).toBeLessThanOrEqual(LIMITS.buttonText);
        expect((e.value ?? '').length).toBeLessThanOrEqual(LIMITS.buttonValue);
        expect(e.action_id).toBeDefined();
        expect(actionIds.has(e.action_id as string)).toBe(false);
        actionIds.add(e.action_id as string);
        if (e.confirm) {
          expect(e.confirm.title.text.length).toBeLessThanOrEqual(100);
          expect(e.confirm.text.text.length).toBeLessThanOrEqual(300);
        }
      }
    } else if (block.type === 'header') {
      expect((block.text as AnyText).text.length).toBeLessThanOrEqual(LIMITS.headerText);
    } else {
      throw new Error(`unexpected block type ${block.type}`);
    }
  }
}

/** All mrkdwn the message shows: the fallback text, section texts and fields, context elements. */
function mrkdwnTexts(message: BlockKitMessage): string[] {
  const out = [message.text];
  for (const block of asAny(message.blocks)) {
    if (block.text?.type === 'mrkdwn') out.push(block.text.text);
    for (const f of block.fields ?? []) out.push(f.text);
    if (block.type === 'context')
      for (const e of block.elements ?? []) if (e.type === 'mrkdwn') out.push(e.text as string);
  }
  return out;
}

function buttons(message: BlockKitMessage): AnyElement[] {
  return asAny(message.blocks).flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []));
}

function applyButton(message: BlockKitMessage): AnyElement | undefined {
  return buttons(message).find((b) => b.action_id === ACTION_IDS.apply);
}

const ENABLED: DiagnosisMessageOptions = {
  applyEnabled: true,
  suggestionId: 'sugg_01JD7Q4',
  rerunValue: 'rerun:payments/ledger-bc9xsnqjs-zjg2r/ledger',
};

describe('diagnosisMessage', () => {
  it('renders a cgroup OOM with three causes, notes and a patch (snapshot)', () => {
    const message = diagnosisMessage(heapOom(), ENABLED);
    expectWithinSlackLimits(message);
    expect(message).toMatchSnapshot();
  });

  it('renders a SIGKILL that was not an OOM, with Apply turned off (snapshot)', () => {
    const message = diagnosisMessage(probeKill(), {
      applyEnabled: false,
      applyUnavailableReason: 'applying fixes is turned off for cluster prod-eu',
      rerunValue: 'rerun:shop/catalog',
    });
    expectWithinSlackLimits(message);
    expect(message).toMatchSnapshot();
  });

  it('renders missing sources and a bare-pod patch (snapshot)', () => {
    const message = diagnosisMessage(missingSources(), { ...ENABLED, rerunValue: 'rerun:shop/checkout' });
    expectWithinSlackLimits(message);
    expect(message).toMatchSnapshot();
  });

  it('renders a hostile diagnosis (snapshot)', () => {
    const message = diagnosisMessage(hostile(), ENABLED);
    expectWithinSlackLimits(message);
    expect(message).toMatchSnapshot();
  });

  it('starts with one line: the verdict emoji and the headline', () => {
    const first = asAny(diagnosisMessage(heapOom(), ENABLED).blocks)[0];
    expect(first?.type).toBe('section');
    expect(first?.text?.text).toBe(`:boom: ${heapOom().headline}`);
    expect(
      asAny(diagnosisMessage(probeKill(), ENABLED).blocks)[0]?.text?.text.startsWith(
        ':no_entry_sign: Not an OOM kill',
      ),
    ).toBe(true);
    expect(
      asAny(
        diagnosisMessage({ ...probeKill(), verdict: 'child-process-oom' }, ENABLED).blocks,
      )[0]?.text?.text.startsWith(':ghost: '),
    ).toBe(true);
    expect(
      asAny(
        diagnosisMessage({ ...probeKill(), verdict: 'no-oom-found' }, ENABLED).blocks,
      )[0]?.text?.text.startsWith(':white_check_mark: '),
    ).toBe(true);
    const multiLine = diagnosisMessage({ ...heapOom(), headline: 'first\nsecond' }, ENABLED);
    expect(asAny(multiLine.blocks)[0]?.text?.text).toBe(':boom: first second');
  });

  it('ranks causes with a numbered title, a confidence and a 10-cell bar', () => {
    const texts = mrkdwnTexts(diagnosisMessage(heapOom(), ENABLED)).join('\n');
    expect(texts).toContain(
      "*1. The runtime's heap is sized past the container limit* · confidence 0.95 ▰▰▰▰▰▰▰▰▰▱",
    );
    expect(texts).toContain('*2. A memory leak* · confidence 0.60 ▰▰▰▰▰▰▱▱▱▱');
    expect(texts).toContain(
      '*3. The memory limit is too small for its real working set* · confidence 0.30 ▰▰▰▱▱▱▱▱▱▱',
    );
  });

  it('rewrites evidence times into <!date^…> tokens with the right epoch', () => {
    const texts = mrkdwnTexts(diagnosisMessage(heapOom(), ENABLED)).join('\n');
    const epoch = Date.UTC(2026, 10, 28, 10, 22) / 1000;
    expect(texts).toContain(
      `at <!date^${epoch}^{date_short_pretty} {time}|2026-11-28 10:22 UTC>; restarted 9 times`,
    );
    // The footer's window too.
    expect(texts).toContain(
      `Window <!date^${Date.UTC(2026, 10, 27, 12, 0) / 1000}^{date_short_pretty} {time}|2026-11-27 12:00 UTC> → <!date^${Date.UTC(2026, 10, 28, 12, 0) / 1000}^`,
    );
    // Every token's epoch is the time it displays.
    for (const [, epochText, shown] of texts.matchAll(
      /<!date\^(\d+)\^\{date_short_pretty\} \{time\}\|([^>]+)>/g,
    )) {
      const iso = new Date(Number(epochText) * 1000).toISOString();
      expect(shown).toBe(`${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`);
    }
  });

  it('shows old → new resources in fields, env changes, the kubectl line and the YAML in code blocks', () => {
    const message = diagnosisMessage(missingSources(), ENABLED);
    const fix = asAny(message.blocks).find((b) => b.text?.text.includes('*Suggested fix*'));
    expect(fix?.fields?.map((f) => f.text)).toEqual([
      '*requests.memory*\n`256Mi` → `512Mi`',
      '*limits.memory*\n`512Mi` → `768Mi`',
    ]);
    const heap = asAny(diagnosisMessage(heapOom(), ENABLED).blocks).find((b) =>
      b.text?.text.includes('*Suggested fix*'),
    );
    expect(heap?.fields?.map((f) => f.text)).toContain('*env* `_JAVA_OPTIONS`\n`-Xmx1408m`');
    const texts = mrkdwnTexts(diagnosisMessage(heapOom(), ENABLED)).join('\n');
    expect(texts).toContain(`*Apply with:*\n\`\`\`${heapOom().recommendation?.kubectl}\`\`\``);
    expect(texts).toContain('*Or as YAML* (strategic merge patch):\n```spec:\n  template:');
  });

  it('says no resource change is suggested, and why, when there is no recommendation', () => {
    const texts = mrkdwnTexts(diagnosisMessage(probeKill(), ENABLED)).join('\n');
    expect(texts).toContain('No resource change is suggested');
    expect(texts).toContain('more memory would not help here');
    expect(texts).not.toContain('*Suggested fix*');
    expect(texts).toContain('Now: requests.memory `512Mi`, limits.memory `1Gi`');
  });

  it('lists what could not be gathered', () => {
    const texts = mrkdwnTexts(diagnosisMessage(missingSources(), ENABLED)).join('\n');
    expect(texts).toContain(':warning: *Could not gather*\n• prometheus: not configured');
    expect(mrkdwnTexts(diagnosisMessage(heapOom(), ENABLED)).join('\n')).not.toContain('Could not gather');
  });

  describe('the buttons', () => {
    it('always offers Re-run with the given value', () => {
      for (const d of [heapOom(), probeKill(), missingSources()]) {
        const rerun = buttons(diagnosisMessage(d, ENABLED)).find((b) => b.action_id === ACTION_IDS.rerun);
        expect(rerun?.action_id).toBe('oom_rerun');
        expect(rerun?.value).toBe(ENABLED.rerunValue);
      }
    });

    it('offers Apply only when enabled, with a suggestion id and a recommendation', () => {
      expect(applyButton(diagnosisMessage(heapOom(), ENABLED))).toBeDefined();
      expect(applyButton(diagnosisMessage(heapOom(), { ...ENABLED, applyEnabled: false }))).toBeUndefined();
      expect(
        applyButton(diagnosisMessage(heapOom(), { applyEnabled: true, rerunValue: 'r' })),
      ).toBeUndefined();
      expect(applyButton(diagnosisMessage(heapOom(), { ...ENABLED, suggestionId: '' }))).toBeUndefined();
      expect(applyButton(diagnosisMessage(probeKill(), ENABLED))).toBeUndefined();
    });

    it('does not offer Apply for a bare pod, and says why', () => {
      const message = diagnosisMessage(missingSources(), ENABLED);
      expect(applyButton(message)).toBeUndefined();
      expect(mrkdwnTexts(message).join('\n')).toContain('is a bare pod: there is no controller to patch');
    });

    it('carries the suggestion id only, never the patch', () => {
      const d = heapOom();
      const apply = applyButton(diagnosisMessage(d, ENABLED));
      expect(apply?.action_id).toBe('oom_apply');
      expect(apply?.style).toBe('primary');
      expect(apply?.value).toBe(ENABLED.suggestionId);
      const r = d.recommendation;
      expect(r).not.toBeNull();
      for (const secret of [r?.kubectl, r?.yaml, JSON.stringify(r?.patch), '-Xmx1408m', '2Gi'])
        expect(apply?.value).not.toContain(secret);
      // One confirmation only: the modal the button opens, with the dry-run diff (no second dialog first).
      expect(apply?.confirm).toBeUndefined();
    });

    it('explains why Apply is off when a reason is given, and says nothing otherwise', () => {
      const off = diagnosisMessage(heapOom(), {
        applyEnabled: false,
        applyUnavailableReason: 'you are not in <!subteam^S1> on-call',
        rerunValue: 'r',
      });
      const text = mrkdwnTexts(off).join('\n');
      expect(text).toContain(':lock: Apply is not available: you are not in &lt;!subteam^S1&gt; on-call');
      const silent = diagnosisMessage(heapOom(), { applyEnabled: false, rerunValue: 'r' });
      expect(mrkdwnTexts(silent).join('\n')).not.toContain('Apply is not available');
    });

    it('refuses a Re-run value longer than Slack allows', () => {
      expect(() => diagnosisMessage(heapOom(), { ...ENABLED, rerunValue: 'r'.repeat(2001) })).toThrow(
        RangeError,
      );
    });
  });

  it('ends with a footer naming the window, the target and oomdoctor', () => {
    const blocks = asAny(diagnosisMessage(heapOom(), ENABLED).blocks);
    const footer = blocks[blocks.length - 1];
    expect(footer?.type).toBe('context');
    const texts = (footer?.elements ?? []).map((e) => e.text as string);
    expect(texts[0]).toMatch(/^Window <!date\^/);
    expect(texts[1]).toBe('`payments/ledger-bc9xsnqjs-zjg2r` · container `ledger`');
    expect(texts[2]).toBe('oomdoctor');
  });

  describe('a hostile diagnosis', () => {
    const message = diagnosisMessage(hostile(), ENABLED);
    const json = JSON.stringify(message);

    it('contains no mention, broadcast or link token anywhere in its JSON', () => {
      for (const forbidden of ['<!channel>', '<!here', '<!everyone', '<!subteam', '<@U', '<http', '<#'])
        expect(json).not.toContain(forbidden);
      expect(json).not.toMatch(/@(here|channel|everyone)/i);
    });

    it('shows no "<" in its mrkdwn but the date tokens it made itself', () => {
      for (const text of mrkdwnTexts(message)) {
        for (const match of text.matchAll(/<[^>]*>?/g))
          expect(match[0]).toMatch(
            /^<!date\^\d+\^\{date_short_pretty\} \{time\}\|\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC>$/,
          );
      }
    });

    it('keeps every text within the limits and cuts the YAML with a note', () => {
      expectWithinSlackLimits(message);
      const texts = mrkdwnTexts(message).join('\n');
      expect(texts).toMatch(/# …\d+ more lines cut/);
      expect(texts).toContain('too many to show here');
    });

    it('keeps the code blocks closed', () => {
      for (const block of asAny(message.blocks)) {
        const text = block.text?.text ?? '';
        if (text.includes('```')) expect((text.match(/```/g) ?? []).length).toBe(2);
      }
    });
  });

  it('stays within 50 blocks and 3000 characters a section with 200 evidence lines everywhere', () => {
    const message = diagnosisMessage(floodOfEvidence(200), ENABLED);
    expectWithinSlackLimits(message);
    expect(message.blocks.length).toBeLessThanOrEqual(50);
    const texts = mrkdwnTexts(message).join('\n');
    expect(texts).toMatch(/…and \d+ more/);
    expect(texts).toContain('…and 5 more causes');
    // The Apply and Re-run buttons and the footer survive the cut.
    expect(applyButton(message)?.value).toBe(ENABLED.suggestionId);
    expect(asAny(message.blocks)[message.blocks.length - 1]?.type).toBe('context');
    // Twenty env changes fit in ten fields.
    const fix = asAny(message.blocks).find((b) => b.text?.text.includes('*Suggested fix*'));
    expect(fix?.fields?.length).toBe(10);
    expect(fix?.fields?.[9]?.text).toContain('…and 13 more');
  });

  it('stays within the limits with a flood of causes', () => {
    const d = floodOfEvidence(5);
    const many = {
      ...d,
      causes: Array.from({ length: 300 }, (_, i) => ({
        id: 'memory-leak' as const,
        confidence: 0.5,
        evidence: [`cause ${i}`],
      })),
    };
    expectWithinSlackLimits(diagnosisMessage(many, ENABLED));
  });
});

describe('progressMessage', () => {
  const target = { namespace: 'shop', pod: 'api-1' };

  it('shows the stage and the step (snapshot)', () => {
    const stages = ['queued', 'resolving', 'gathering', 'querying-prometheus', 'classifying'] as const;
    const messages = stages.map((s) => progressMessage(target, s));
    messages.forEach(expectWithinSlackLimits);
    expect(messages).toMatchSnapshot();
    expect(asAny(progressMessage(target, 'querying-prometheus').blocks)[0]?.text?.text).toBe(
      ':hourglass_flowing_sand: Diagnosing `shop/api-1`: querying Prometheus… (step 3 of 4)',
    );
  });

  it('counts retries from the second attempt', () => {
    expect(progressMessage(target, 'gathering', 1).text).not.toContain('retry');
    expect(progressMessage(target, 'gathering', 2).text).toContain('(retry 1)');
    expect(progressMessage(target, 'gathering', 3).text).toContain('(retry 2)');
  });

  it('names the container when given', () => {
    expect(progressMessage({ ...target, container: 'api' }, 'resolving').text).toContain(
      '`shop/api-1` (container `api`)',
    );
  });
});

describe('failureMessage', () => {
  it('says why in words and offers Re-run (snapshot)', () => {
    const message = failureMessage(
      { namespace: 'shop', pod: 'api-1' },
      'pod shop/api-1 not found <!channel>',
      { rerunValue: 'rerun:shop/api-1' },
    );
    expectWithinSlackLimits(message);
    expect(message).toMatchSnapshot();
    expect(asAny(message.blocks)[0]?.text?.text).toBe(
      ':x: Could not diagnose `shop/api-1`: pod shop/api-1 not found &lt;!channel&gt;',
    );
    expect(buttons(message).map((b) => [b.action_id, b.value])).toEqual([['oom_rerun', 'rerun:shop/api-1']]);
  });
});

describe('groupParentMessage', () => {
  const firing: GroupParentProps = {
    clusterName: 'prod-eu',
    alertName: 'KubePodCrashLooping',
    status: 'firing',
    workloads: [
      {
        key: 'shop/Deployment/checkout/api',
        label: 'shop/deploy/checkout · api',
        status: 'OOMKilled: limit too small',
        link: 'https://acme.slack.com/archives/C0123/p1795861320000100?thread_ts=1795861320.000100&cid=C0123',
      },
      {
        key: 'shop/Deployment/catalog/catalog',
        label: 'shop/deploy/catalog · catalog',
        status: 'not an OOM (liveness probe)',
        link: 'https://acme.slack.com/archives/C0123/p1795861320000200',
      },
      {
        key: 'payments/Deployment/ledger/ledger',
        label: 'payments/deploy/ledger · ledger',
        status: 'diagnosing…',
      },
    ],
    undiagnosable: [{ label: 'search/pod/indexer-x2x', why: 'the pod was deleted before it could be read' }],
    notOomCount: 2,
  };

  it('renders a firing group (snapshot)', () => {
    const message = groupParentMessage(firing);
    expectWithinSlackLimits(message);
    expect(message).toMatchSnapshot();
    const texts = mrkdwnTexts(message);
    expect(texts[1]).toBe(':rotating_light: *KubePodCrashLooping* in cluster `prod-eu`');
    expect(texts.join('\n')).toContain(
      '• `shop/deploy/checkout · api`: OOMKilled: limit too small · <https://acme.slack.com/archives/C0123/p1795861320000100?thread_ts=1795861320.000100&amp;cid=C0123|reply>',
    );
    expect(texts.join('\n')).toContain('2 crash loops were not OOM kills');
    expect(texts.join('\n')).toContain(
      '• `search/pod/indexer-x2x`: the pod was deleted before it could be read',
    );
  });

  it('renders a resolved group (snapshot)', () => {
    const message = groupParentMessage({ ...firing, status: 'resolved', notOomCount: 1 });
    expect(message).toMatchSnapshot();
    const texts = mrkdwnTexts(message).join('\n');
    expect(texts).toContain(':white_check_mark: Resolved: *KubePodCrashLooping* in cluster `prod-eu`');
    expect(texts).toContain('1 crash loop was not an OOM kill');
  });

  it('renders a /oom request (snapshot)', () => {
    const message = groupParentMessage({
      ...firing,
      workloads: firing.workloads.slice(0, 1),
      undiagnosable: [],
      notOomCount: 0,
      commandBy: { userId: 'U0123ABC', text: 'shop/api-1' },
    });
    expect(message).toMatchSnapshot();
    const texts = mrkdwnTexts(message).join('\n');
    expect(texts).toContain('`/oom shop/api-1`, asked by <@U0123ABC>');
    expect(texts).not.toContain('crash loop');
  });

  it('drops links that are not plain http(s) and user ids that are not ids', () => {
    const message = groupParentMessage({
      ...firing,
      workloads: [
        { key: 'k', label: 'l', status: 's', link: 'javascript:alert(1)' },
        { key: 'k2', label: 'l2', status: 's', link: 'https://x.example/a|<!channel>' },
      ],
      commandBy: { userId: 'U1>|<!channel', text: 'x' },
    });
    const json = JSON.stringify(message);
    expect(json).not.toContain('javascript:');
    expect(json).not.toContain('<!channel');
    expect(json).not.toContain('<@');
  });

  it('stays within 50 blocks with 500 workloads, and says how many more', () => {
    const many = Array.from({ length: 500 }, (_, i) => ({
      key: `k${i}`,
      label: `ns-${i}/deploy/app-${i} · container-${i}`,
      status: 'OOMKilled: a memory leak, and a long explanation of what that means for you',
      link: `https://acme.slack.com/archives/C0123/p17958613200${String(i).padStart(5, '0')}`,
    }));
    const message = groupParentMessage({ ...firing, workloads: many });
    expectWithinSlackLimits(message);
    expect(mrkdwnTexts(message).join('\n')).toMatch(/…and \d+ more/);
  });
});

describe('podPickerMessage', () => {
  it('asks which pod, with one button per match (snapshot)', () => {
    const message = podPickerMessage('api-1', [
      { namespace: 'shop', pod: 'api-1' },
      { namespace: 'staging', pod: 'api-1' },
    ]);
    expectWithinSlackLimits(message);
    expect(message).toMatchSnapshot();
    expect(buttons(message).map((b) => [b.action_id, b.value])).toEqual([
      ['oom_pick_pod_0', 'shop/api-1'],
      ['oom_pick_pod_1', 'staging/api-1'],
    ]);
  });

  it('shows at most 25 buttons and says how many more matched', () => {
    const matches = Array.from({ length: 30 }, (_, i) => ({
      namespace: `ns-${i}`,
      pod: `api-${'x'.repeat(100)}-${i}`,
    }));
    const message = podPickerMessage('api', matches);
    expectWithinSlackLimits(message);
    const picked = buttons(message);
    expect(picked).toHaveLength(25);
    expect(picked[24]?.action_id).toBe('oom_pick_pod_24');
    expect(picked[24]?.value).toBe(`ns-24/api-${'x'.repeat(100)}-24`);
    expect(mrkdwnTexts(message).join('\n')).toContain('…and 5 more matched');
  });

  it('says so when nothing matched (snapshot)', () => {
    const message = podPickerMessage('nope', []);
    expectWithinSlackLimits(message);
    expect(message).toMatchSnapshot();
    expect(buttons(message)).toHaveLength(0);
  });
});

describe('helpMessage and commandAck', () => {
  it('shows the usage (snapshot)', () => {
    const message = helpMessage();
    expectWithinSlackLimits(message);
    expect(message).toMatchSnapshot();
    const texts = mrkdwnTexts(message).join('\n');
    for (const form of [
      '`/oom &lt;namespace&gt;/&lt;pod&gt;`',
      '`/oom &lt;pod&gt;`',
      '`/oom &lt;namespace&gt;/deploy/&lt;name&gt;`',
      '`sts/`',
      '`ds/`',
      '`cronjob/`',
      '`/oom help`',
    ])
      expect(texts).toContain(form);
    expect(mrkdwnTexts(helpMessage('/oomdoctor')).join('\n')).toContain('`/oomdoctor help`');
  });

  it('acknowledges a request (snapshot)', () => {
    const message = commandAck('shop/api-1');
    expectWithinSlackLimits(message);
    expect(message).toMatchSnapshot();
    expect(message.text).toBe('Diagnosing `shop/api-1`… the answer will appear in this channel.');
    expect(JSON.stringify(commandAck('<!channel> `x`'))).not.toContain('<!channel>');
  });
});

describe("the slash command's other answers", () => {
  it('says a /oom failed, with what was typed as a code span and the reason in words', () => {
    const message = commandFailedMessage('shop/api-1', 'the Kubernetes API refused: pods is forbidden');
    expectWithinSlackLimits(message);
    expect(message.text).toBe(
      ':x: Could not diagnose `shop/api-1`: the Kubernetes API refused: pods is forbidden',
    );
    expect(mrkdwnTexts(message)).toEqual([message.text, message.text]);
  });

  it('neither breaks nor pings on a backtick or a mention typed into /oom', () => {
    const message = commandFailedMessage('shop/`api` <!channel> @here', 'pod <@U0BOB> not found');
    expectWithinSlackLimits(message);
    const json = JSON.stringify(message);
    expect(json).not.toContain('<!channel>');
    expect(json).not.toContain('<@U0BOB>');
    expect(json).not.toMatch(/@here/);
    // One code span, opened and closed once: the typed backticks are gone.
    expect(message.text).toBe(
      ':x: Could not diagnose `shop/api &lt;!channel&gt; @\u200Dhere`: pod &lt;@U0BOB&gt; not found',
    );
    expect(commandFailedMessage('', '').text).toBe(':x: Could not diagnose _(empty)_: unknown error');
  });

  it('says a namespace is not one the bot may look into', () => {
    const message = namespaceRefusedMessage('kube-system');
    expectWithinSlackLimits(message);
    expect(message.text).toBe('Namespace `kube-system` is not one this bot may look into.');
    expect(mrkdwnTexts(message)[1]).toBe(
      ':no_entry: Namespace `kube-system` is not one this bot may look into.',
    );
  });

  it('lists the namespaces it may read when asked to', () => {
    expect(namespaceRefusedMessage('kube-system', ['shop', 'pay<!here>']).text).toBe(
      'Namespace `kube-system` is not one this bot may look into. It may read: `shop`, `pay&lt;!here&gt;`.',
    );
    expect(namespaceRefusedMessage('kube-system', []).text).toBe(
      'Namespace `kube-system` is not one this bot may look into.',
    );
  });

  it("answers a text that is not a target with the parser's reason, escaped, and the forms", () => {
    const message = badTargetMessage('target "<!channel>" is not valid: expected lower case', '/oomdoctor');
    expectWithinSlackLimits(message);
    expect(message.text).toBe(
      ':warning: target "&lt;!channel&gt;" is not valid: expected lower case\n' +
        'Try `/oomdoctor &lt;namespace&gt;/&lt;pod&gt;`, `/oomdoctor &lt;pod&gt;` or `/oomdoctor &lt;namespace&gt;/deploy/&lt;name&gt;`.',
    );
    expect(mrkdwnTexts(message)[1]).toBe(message.text);
  });

  it('says a button, a choice or a request cannot be used, and to type the command instead', () => {
    const message = unusableRequestMessage('That button no longer works.');
    expectWithinSlackLimits(message);
    // The form is escaped: a bare <namespace> would be read by Slack as a link or a mention.
    expect(message.text).toBe(
      ':warning: That button no longer works. Run `/oom &lt;namespace&gt;/&lt;pod&gt;` instead.',
    );
    expect(unusableRequestMessage('That request could not be read.', '/oomdoctor').text).toContain(
      'Run `/oomdoctor &lt;namespace&gt;/&lt;pod&gt;` instead.',
    );
  });

  it('says the queue is down and to try again', () => {
    const message = queueUnavailableMessage();
    expectWithinSlackLimits(message);
    expect(message.text).toBe(':x: The diagnosis queue is not available right now. Try again in a minute.');
  });

  it('says no pod has the name typed, where it looked, and how to name one', () => {
    const message = podPickerMessage('api-`1` <!here>', []);
    expect(message.text).toBe(
      'No pod named `api-1 &lt;!here&gt;` in the namespaces this bot may read. Try `/oom &lt;namespace&gt;/&lt;pod&gt;`.',
    );
  });
});

describe('webhookRefusedMessage', () => {
  it('says why the payload was refused, that it is lost, and the fix', () => {
    const message = webhookRefusedMessage(
      '413: the body is larger than 1048576 bytes',
      'Set max_alerts (at most 400) on the oomdoctor webhook.',
    );
    expectWithinSlackLimits(message);
    expect(message.text).toBe(
      ':warning: oomdoctor refused a webhook from Alertmanager (413: the body is larger than 1048576 bytes). ' +
        'Alertmanager does not resend a refused payload, so the OOM alerts in it will not be diagnosed. ' +
        'Set max_alerts (at most 400) on the oomdoctor webhook.',
    );
    expect(mrkdwnTexts(message)).toEqual([message.text, message.text]);
  });

  it('escapes what the payload put into the reason, and bounds it', () => {
    const message = webhookRefusedMessage(`400: alerts.0.labels <!channel> ${'x'.repeat(5000)}`, 'Fix it.');
    expectWithinSlackLimits(message);
    expect(JSON.stringify(message)).not.toContain('<!channel>');
    expect(message.text.length).toBeLessThan(700);
    expect(message.text).toMatch(/Fix it\.$/);
  });
});

describe('responseUrlText', () => {
  it('gives the headline, the top causes and the kubectl line (snapshot)', () => {
    const text = responseUrlText(heapOom());
    expect(text).toMatchSnapshot();
    expect(text.startsWith(`:boom: ${heapOom().headline}`)).toBe(true);
    expect(text).toContain("1. The runtime's heap is sized past the container limit (confidence 0.95)");
    expect(text).toContain(`\`\`\`${heapOom().recommendation?.kubectl}\`\`\``);
  });

  it('says no change is suggested when there is no recommendation (snapshot)', () => {
    const text = responseUrlText(probeKill());
    expect(text).toMatchSnapshot();
    expect(text).toContain('more memory would not help here');
  });

  it('stays within 3000 characters and escapes a hostile diagnosis', () => {
    for (const d of [heapOom(), probeKill(), missingSources(), hostile(), floodOfEvidence(200)]) {
      const text = responseUrlText(d);
      expect(text.length).toBeLessThanOrEqual(3000);
    }
    const text = responseUrlText(hostile());
    for (const forbidden of ['<!channel>', '<!here', '<@U', '<http']) expect(text).not.toContain(forbidden);
    expect(text).not.toMatch(/@(here|channel|everyone)/i);
    expect(text).toContain('The kubectl command is too long for this reply');
  });
});
