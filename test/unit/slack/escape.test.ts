import fc from 'fast-check';
import {
  code,
  codeBlock,
  escapeMrkdwn,
  oneLine,
  plainText,
  slackDates,
  truncate,
} from '../../../src/slack/escape';

const ZWJ = '\u200D';

describe('escapeMrkdwn', () => {
  it("escapes Slack's three control characters, & first", () => {
    expect(escapeMrkdwn('a & b < c > d')).toBe('a &amp; b &lt; c &gt; d');
    expect(escapeMrkdwn('&lt;')).toBe('&amp;lt;');
  });

  it('turns mention, broadcast and link tokens into text', () => {
    for (const token of [
      '<!channel>',
      '<!here>',
      '<!everyone>',
      '<@U0123ABC>',
      '<#C0123|general>',
      '<!subteam^S123>',
      '<http://evil.example|click>',
    ]) {
      const escaped = escapeMrkdwn(token);
      expect(escaped).not.toMatch(/[<>]/);
      expect(escaped.startsWith('&lt;')).toBe(true);
    }
  });

  it('breaks the @channel, @here and @everyone auto-mentions with a zero-width joiner, in any case', () => {
    expect(escapeMrkdwn('ping @channel and @here and @EVERYONE')).toBe(
      `ping @${ZWJ}channel and @${ZWJ}here and @${ZWJ}EVERYONE`,
    );
    expect(escapeMrkdwn('mail me at ops@example.com')).toBe('mail me at ops@example.com');
  });

  it('splits runs of three or more backticks so they cannot open a code block', () => {
    expect(escapeMrkdwn('a ``` b ```` c `d` ``e``')).not.toContain('```');
    expect(escapeMrkdwn('`d` ``e``')).toBe('`d` ``e``');
    fc.assert(fc.property(fc.string(), (s) => !escapeMrkdwn(s).includes('```')));
  });

  it('never leaves a < or > in its output', () => {
    fc.assert(fc.property(fc.string(), (s) => !/[<>]/.test(escapeMrkdwn(s))));
  });

  it('matches the snapshot of a hostile string', () => {
    expect(escapeMrkdwn('<!channel> @here <http://evil.example|click> `x` & *y* _z_ ~w~')).toMatchSnapshot();
  });
});

describe('code', () => {
  it('wraps an identifier in backticks, without its backticks and newlines, escaped', () => {
    expect(code('shop/api-1')).toBe('`shop/api-1`');
    expect(code('a`b`\nc<!here>&')).toBe('`ab c&lt;!here&gt;&amp;`');
  });

  it('says "(empty)" rather than writing an empty span', () => {
    expect(code('``')).toBe('_(empty)_');
  });

  it('bounds the value inside the span', () => {
    const out = code('p'.repeat(500), 100);
    expect(out.length).toBeLessThanOrEqual(102);
    expect(out.startsWith('`') && out.endsWith('…`')).toBe(true);
  });
});

describe('codeBlock', () => {
  it('escapes and cannot be closed early by a run of backticks', () => {
    const out = codeBlock('a: ```\nb: <!channel> & `x`\n');
    expect(out.startsWith('```') && out.endsWith('```')).toBe(true);
    const inner = out.slice(3, -3);
    expect(inner).not.toContain('``');
    expect(inner).toContain('&lt;!channel&gt; &amp; `x`');
  });
});

describe('plainText and oneLine', () => {
  it('drops < and > and breaks auto-mentions in plain_text', () => {
    expect(plainText('Patch <!channel>\n@here')).toBe(`Patch !channel @${ZWJ}here`);
  });

  it('joins lines', () => {
    expect(oneLine('  a\n\n  b\r\nc  ')).toBe('a b c');
  });
});

describe('slackDates', () => {
  it('rewrites each evidence time into a date token with the right epoch and the original as fallback', () => {
    const epoch1 = Date.UTC(2026, 10, 28, 11, 2) / 1000;
    const epoch2 = Date.UTC(2026, 10, 27, 23, 59) / 1000;
    expect(slackDates('killed at 2026-11-28 11:02 UTC, before at 2026-11-27 23:59 UTC.')).toBe(
      `killed at <!date^${epoch1}^{date_short_pretty} {time}|2026-11-28 11:02 UTC>, before at <!date^${epoch2}^{date_short_pretty} {time}|2026-11-27 23:59 UTC>.`,
    );
  });

  it('gives the same answer on every call (no global regex state)', () => {
    const text = 'at 2026-11-28 11:02 UTC';
    expect(slackDates(text)).toBe(slackDates(text));
    expect(slackDates(text)).toContain('<!date^');
  });

  it('leaves impossible dates and other formats alone', () => {
    expect(slackDates('2026-02-30 10:00 UTC')).toBe('2026-02-30 10:00 UTC');
    expect(slackDates('2026-11-28 24:00 UTC')).toBe('2026-11-28 24:00 UTC');
    expect(slackDates('2026-11-28T11:02:00Z')).toBe('2026-11-28T11:02:00Z');
  });

  it('works on escaped text', () => {
    expect(slackDates(escapeMrkdwn('<b> & 2026-11-28 11:02 UTC'))).toBe(
      `&lt;b&gt; &amp; <!date^${Date.UTC(2026, 10, 28, 11, 2) / 1000}^{date_short_pretty} {time}|2026-11-28 11:02 UTC>`,
    );
  });
});

describe('truncate', () => {
  it('leaves short text alone and cuts long text with an ellipsis', () => {
    expect(truncate('hello', 5)).toBe('hello');
    expect(truncate('hello world', 8)).toBe('hello w…');
    expect(truncate('hello', 1)).toBe('…');
    expect(truncate('hello', 0)).toBe('');
  });

  it('never splits a surrogate pair', () => {
    expect(truncate('ab😀😀😀', 4)).toBe('ab…');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.integer({ min: 1, max: 40 }), (s, max) => {
        const out = truncate(s, max);
        expect(out.length).toBeLessThanOrEqual(max);
        // No lone high surrogate anywhere (in particular not just before the ellipsis).
        expect(out).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
      }),
    );
  });

  it('never cuts an escape entity or a Slack token open', () => {
    const escaped = escapeMrkdwn('a & b < c > d & e');
    for (let max = 1; max <= escaped.length; max += 1) {
      const out = truncate(escaped, max);
      expect(out.length).toBeLessThanOrEqual(max);
      expect(out).not.toMatch(/&[a-z#0-9]*…$/i);
    }
    const dated = slackDates('killed at 2026-11-28 11:02 UTC again');
    for (let max = 1; max < dated.length; max += 1) {
      const out = truncate(dated, max);
      expect(out.length).toBeLessThanOrEqual(max);
      const opens = (out.match(/</g) ?? []).length;
      const closes = (out.match(/>/g) ?? []).length;
      expect(opens).toBe(closes);
    }
  });
});
