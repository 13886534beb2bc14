// The memory chart posted to Slack, as a PNG: the SVG of chart-svg.ts rasterised with resvg and the
// DejaVu fonts, named explicitly because resvg draws text in a serif face, or not at all, without
// them. The pure parts are chart-data.ts (the points), chart-scales.ts (the axes), chart-text.ts
// (escaping and text widths) and chart-svg.ts (the drawing).
import fs from 'node:fs';
import path from 'node:path';
import type { ResvgRenderOptions } from '@resvg/resvg-js';
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

/**
 * resvg, loaded on first use with its allocator told to return freed memory at once. resvg-js
 * allocates with mimalloc, which by default hands freed pages back to the system only when the same
 * thread allocates again; a render runs on any of libuv's pool threads, which may not render again
 * for hours, so each kept its last render's pages: about 20 MiB in all, measured over 45 charts
 * (MIMALLOC_PURGE_DELAY=0: 101 MiB against 121). mimalloc reads the setting when the library loads.
 */
function resvg(): typeof import('@resvg/resvg-js') {
  process.env.MIMALLOC_PURGE_DELAY ??= '0';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@resvg/resvg-js') as typeof import('@resvg/resvg-js');
}

/**
 * The chart as a PNG on an opaque white background, rasterised on libuv's thread pool: about 70 ms
 * of work that would otherwise hold up the event loop, and with it the webhook's acknowledgements,
 * in a process that serves both. (resvg's synchronous Resvg class is not used: it keeps about
 * 3 MiB of every render for good, even through garbage collections.)
 */
export async function renderMemoryChartPng(
  input: MemoryChartInput,
  options: MemoryChartSize = {},
): Promise<Buffer> {
  // One render at a time: each holds its own font database and pixmap, and a burst of kills would
  // otherwise hold several at once.
  const turn = renderQueue.then(async () =>
    (await resvg().renderAsync(memoryChartSvg(input, options), resvgOptions())).asPng(),
  );
  renderQueue = turn.then(
    () => undefined,
    () => undefined,
  );
  return turn;
}

let renderQueue: Promise<void> = Promise.resolve();
