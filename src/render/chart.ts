// The memory chart posted to Slack, as a PNG: the SVG of chart-svg.ts rasterised with resvg and the
// DejaVu fonts, named explicitly because resvg draws text in a serif face, or not at all, without
// them. The pure parts are chart-data.ts (the points), chart-scales.ts (the axes), chart-text.ts
// (escaping and text widths) and chart-svg.ts (the drawing).
import fs from 'node:fs';
import path from 'node:path';
import { Resvg, renderAsync, type ResvgRenderOptions } from '@resvg/resvg-js';
import type { MemoryChartInput, MemoryChartSize } from './chart-data';
import { COLOR, FONT_FAMILY, memoryChartSvg } from './chart-svg';

export type { MemoryChartInput, MemoryChartSize } from './chart-data';
export { memoryChartSvg } from './chart-svg';

export const FONT_DIR = '/usr/share/fonts/truetype/dejavu';
const FONT_REGULAR = 'DejaVuSans.ttf';
const FONT_BOLD = 'DejaVuSans-Bold.ttf';

/** The DejaVu fonts resvg must be given; throws when they are not installed. */
function fontFiles(): string[] {
  const regular = path.join(FONT_DIR, FONT_REGULAR);
  if (!fs.existsSync(regular)) {
    throw new Error(
      `the chart needs the DejaVu Sans font (${regular} is missing): install the fonts: apt-get install -y fonts-dejavu-core`,
    );
  }
  const bold = path.join(FONT_DIR, FONT_BOLD);
  return fs.existsSync(bold) ? [regular, bold] : [regular];
}

function resvgOptions(): ResvgRenderOptions {
  return {
    background: COLOR.background,
    fitTo: { mode: 'original' },
    font: {
      fontFiles: fontFiles(),
      loadSystemFonts: false,
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
    },
    logLevel: 'off',
  };
}

/** The chart as a PNG, rasterised with resvg on an opaque white background. */
export function renderMemoryChartPng(input: MemoryChartInput, options: MemoryChartSize = {}): Buffer {
  return new Resvg(memoryChartSvg(input, options), resvgOptions()).render().asPng();
}

/**
 * The same, rasterised on libuv's thread pool: about 70 ms of work that would otherwise hold up the
 * event loop, and with it the webhook's acknowledgements, in a process that serves both.
 */
export async function renderMemoryChartPngAsync(
  input: MemoryChartInput,
  options: MemoryChartSize = {},
): Promise<Buffer> {
  // One render at a time: each holds its own font database and pixmap, and a burst of kills would
  // otherwise hold several at once.
  const turn = renderQueue.then(async () =>
    (await renderAsync(memoryChartSvg(input, options), resvgOptions())).asPng(),
  );
  renderQueue = turn.then(
    () => undefined,
    () => undefined,
  );
  return turn;
}

let renderQueue: Promise<void> = Promise.resolve();
