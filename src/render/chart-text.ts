// Text in the chart's SVG: escaped for XML, cleaned of what could make a pod name read as something
// else, and measured with an estimate of DejaVu Sans (the pure part has no font metrics).

// Characters XML 1.0 forbids (resvg would refuse the whole document), C1 controls and lone surrogates.
const INVALID_XML =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// Bidirectional overrides and isolates, which could make a pod name read as something else.
const BIDI_CONTROLS = /[\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** One line of displayable text: no line breaks, no characters XML forbids, no bidi overrides. */
export function cleanText(text: string): string {
  return text
    .replace(/[\t\n\r\u2028\u2029]+/g, ' ')
    .replace(INVALID_XML, '\uFFFD')
    .replace(BIDI_CONTROLS, '');
}

/** Text for an XML element or attribute. */
export function escapeXml(text: string): string {
  return cleanText(text).replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** An estimate of a character's advance in DejaVu Sans, in em, on the generous side. */
function charWidth(c: string): number {
  if (/[ijl|!.,:;'`]/.test(c)) return 0.32;
  if (/[ frt\-/()[\]{}"·]/.test(c)) return 0.42;
  if (/[mw]/.test(c)) return 0.98;
  if (/[MW@%]/.test(c)) return 1.02;
  if (/[A-Z]/.test(c)) return 0.78;
  if (c.charCodeAt(0) < 0x80) return 0.66;
  return 1; // accented letters, CJK, symbols: at most a full em
}

/** The estimated width of one line of text. */
export function textWidth(text: string, fontSize: number, bold = false): number {
  let em = 0;
  for (const c of text) em += charWidth(c);
  return em * fontSize * (bold ? 1.1 : 1);
}

/**
 * Shortens text with "…" in the middle so its estimated width fits: the end of a title (the pod's
 * hash and the container) tells pods apart as much as the start.
 */
export function fitText(text: string, maxWidth: number, fontSize: number, bold = false): string {
  if (textWidth(text, fontSize, bold) <= maxWidth) return text;
  const chars = Array.from(text);
  // No title that fits is longer than a few hundred characters; start there, whatever the input.
  let head = Math.min(Math.ceil(chars.length / 2), 200);
  let tail = Math.min(chars.length - head, 200);
  const candidate = (): string =>
    `${chars.slice(0, head).join('').trimEnd()}…${chars
      .slice(chars.length - tail)
      .join('')
      .trimStart()}`;
  while (head + tail > 0 && textWidth(candidate(), fontSize, bold) > maxWidth) {
    if (head >= tail) head -= 1;
    else tail -= 1;
  }
  return candidate();
}

/** A coordinate or length for SVG: rounded to 0.1, without "-0", so the output is deterministic. */
export function num(value: number): string {
  const rounded = Math.round(value * 10) / 10;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

/** A `<text>` element; `content` is escaped. */
export function textElement(x: number, y: number, content: string, attrs: string): string {
  return `<text x="${num(x)}" y="${num(y)}" ${attrs}>${escapeXml(content)}</text>`;
}
