// The primitives every message is built from: Slack's limits, and one rule for a button's value.
import {
  actions,
  button,
  capBlocks,
  context,
  LIMITS,
  mention,
  packBullets,
  safeLink,
  section,
} from '../../../src/slack/block-kit';

describe('button', () => {
  it('keeps a value of exactly 2,000 characters whole and refuses one more, naming the action', () => {
    expect(button('Re-run', 'oom_rerun', 'v'.repeat(LIMITS.buttonValue)).value).toHaveLength(2000);
    expect(() => button('Re-run', 'oom_rerun', 'v'.repeat(LIMITS.buttonValue + 1))).toThrow(
      'button oom_rerun: value has 2001 characters, Slack allows 2000',
    );
  });

  it('escapes and cuts its label to 75 characters, and never leaves it empty', () => {
    const long = button(`<@U1> ${'x'.repeat(200)}`, 'a', 'v');
    expect(long.text.text.length).toBeLessThanOrEqual(LIMITS.buttonText);
    expect(long.text.text).not.toContain('<');
    expect(button('<>', 'a', 'v').text.text).toBe(' ');
    expect(button('Undo', 'a', 'v', 'danger').style).toBe('danger');
    expect(button('Undo', 'a', 'v').style).toBeUndefined();
  });
});

describe('blocks', () => {
  it('never sends an empty text, and cuts a section to 3,000 characters', () => {
    expect(section('   ').text?.text).toBe(' ');
    expect(section('y'.repeat(5000)).text?.text).toHaveLength(LIMITS.sectionText);
  });

  it('keeps at most ten non-empty context elements', () => {
    const many = context(...Array.from({ length: 15 }, (_, i) => `t${i}`));
    expect(many.elements).toHaveLength(LIMITS.contextElements);
    expect(context('', 'a', '  ').elements.map((e) => ('text' in e ? e.text : ''))).toEqual(['a']);
    expect(context('').elements).toHaveLength(1);
  });

  it('keeps at most 25 buttons in an actions block', () => {
    const buttons = Array.from({ length: 30 }, (_, i) => button(`b${i}`, `a${i}`, `${i}`));
    expect(actions(buttons).elements).toHaveLength(LIMITS.actionsElements);
  });

  it('cuts the middle of a message over 50 blocks, keeping its tail and saying so', () => {
    const blocks = Array.from({ length: 60 }, (_, i) => section(`s${i}`));
    const capped = capBlocks(blocks, 2);
    expect(capped).toHaveLength(LIMITS.blocks);
    expect(capped.slice(-2)).toEqual(blocks.slice(-2));
    expect(JSON.stringify(capped[LIMITS.blocks - 3])).toContain('…and 11 more sections');
  });
});

describe('phrases', () => {
  it('mentions a Slack user id and escapes anything else', () => {
    expect(mention('U0ALICE')).toBe('<@U0ALICE>');
    expect(mention('<!channel>')).toBe('&lt;!channel&gt;');
  });

  it('links only plain http(s) URLs', () => {
    expect(safeLink('https://example.com/a?b=1&c=2', 'reply')).toBe(
      '<https://example.com/a?b=1&amp;c=2|reply>',
    );
    expect(safeLink('javascript:alert(1)', 'reply')).toBeNull();
    expect(safeLink('https://example.com/|evil', 'reply')).toBeNull();
  });

  it('packs bullets within the budget and counts what it left out', () => {
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i}`);
    const [text] = packBullets(lines, { title: '*Notes*' });
    expect(text?.startsWith('*Notes*\n• line 0')).toBe(true);
    expect(text?.endsWith('…and 8 more')).toBe(true);
  });
});
