// A small chart for terminals: memory over the window as columns of block characters, the limit as
// a line of dashes, kills marked under the axis. Pure: points in, lines of text out.
import { formatBytes } from '../core/quantity';

export interface ChartInput {
  points: Array<[number, number]>;
  limitBytes: number | null;
  requestBytes: number | null;
  kills: number[];
  start: number;
  end: number;
}

const BLOCKS = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

export function textChart(input: ChartInput, width = 60, height = 8): string[] {
  if (input.points.length === 0) return ['(no memory history to chart)'];
  const span = Math.max(1, input.end - input.start);
  const columns: number[] = Array.from({ length: width }, () => -1);
  for (const [at, value] of input.points) {
    const column = Math.min(width - 1, Math.max(0, Math.floor(((at - input.start) / span) * width)));
    columns[column] = Math.max(columns[column] ?? -1, value);
  }
  const peak = Math.max(...columns, input.limitBytes ?? 0);
  const top = peak * 1.05 || 1;
  const limitRow = input.limitBytes
    ? Math.min(height - 1, Math.floor((input.limitBytes / top) * height))
    : -1;
  const lines: string[] = [];
  for (let row = height - 1; row >= 0; row--) {
    let line = '';
    for (const value of columns) {
      const filled = value < 0 ? 0 : (value / top) * height - row;
      const cell =
        filled >= 1
          ? BLOCKS[8]
          : filled > 0
            ? BLOCKS[Math.max(1, Math.round(filled * 8))]
            : row === limitRow
              ? '-'
              : ' ';
      line += cell;
    }
    const label =
      row === limitRow && input.limitBytes
        ? ` limit ${formatBytes(input.limitBytes)}`
        : row === height - 1
          ? ` ${formatBytes(top)}`
          : '';
    lines.push(`│${line}│${label}`);
  }
  let marks = '';
  for (let column = 0; column < width; column++) {
    const from = input.start + (column / width) * span;
    const to = input.start + ((column + 1) / width) * span;
    marks += input.kills.some((k) => k >= from && k < to) ? 'x' : '─';
  }
  lines.push(`└${marks}┘`);
  const startText = new Date(input.start).toISOString().slice(11, 16);
  const endText = new Date(input.end).toISOString().slice(11, 16);
  lines.push(` ${startText} UTC${' '.repeat(Math.max(1, width - 17))}${endText} UTC`);
  if (input.kills.length > 0) lines.push(' x = kill');
  return lines;
}
