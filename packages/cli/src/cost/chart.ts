/**
 * The chart of the ratio ZooKeeper/FaaSKeeper over request rates (the paper's figure), as an SVG
 * file and as a plot of characters for the terminal. Both are drawn here by hand: a few lines, and
 * no charting dependency for one figure.
 */
import type { RatioSeries } from './model.js';

/** What the chart shows besides its series. */
export interface ChartLabels {
  title: string;
  /** The ensemble compared against, e.g. `3 × t3.small`. */
  ensemble: string;
}

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** `1e5` → `100K`, `1e6` → `1M`. */
export function shortCount(n: number): string {
  if (n >= 1e6) return `${Number((n / 1e6).toPrecision(3))}M`;
  if (n >= 1e3) return `${Number((n / 1e3).toPrecision(3))}K`;
  return String(Math.round(n));
}

/**
 * The y range of the chart, in decades: from a power of ten at or below every ratio to one at or
 * above every ratio, and always around 1 (the break-even line). The ratio falls by about as much as
 * the request rate grows, so a log scale keeps both ends readable.
 */
function yRange(series: readonly RatioSeries[]): [number, number] {
  const ratios = series.flatMap((s) => s.points.map((p) => p.ratio));
  const lo = Math.min(0, Math.floor(Math.log10(Math.min(...ratios))));
  const hi = Math.max(0, Math.ceil(Math.log10(Math.max(...ratios))));
  return [lo, hi === lo ? lo + 1 : hi];
}

/** The x range: the series' first and last rates. */
function xRange(series: readonly RatioSeries[]): [number, number] {
  const rates = series.flatMap((s) => s.points.map((p) => p.requestsPerDay));
  return [Math.min(...rates), Math.max(...rates)];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

/** The label of a series: `90% reads`. */
export const seriesLabel = (s: RatioSeries): string => `${Math.round(s.reads * 100)}% reads`;

/** The chart as a standalone SVG document: log-x request rate, log-y ratio, a dashed line at 1. */
export function ratioSvg(series: readonly RatioSeries[], labels: ChartLabels): string {
  const width = 640;
  const height = 400;
  const m = { left: 60, right: 20, top: 40, bottom: 50 };
  const [x0, x1] = xRange(series);
  const [lo, hi] = yRange(series);
  const px = (rate: number) =>
    m.left +
    ((Math.log10(rate) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0))) * (width - m.left - m.right);
  const py = (ratio: number) =>
    height - m.bottom - ((Math.log10(ratio) - lo) / (hi - lo)) * (height - m.top - m.bottom);
  const f = (v: number) => v.toFixed(1);
  const lines: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(labels.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(labels.title)}</text>`,
  ];
  for (let decade = Math.ceil(Math.log10(x0)); decade <= Math.floor(Math.log10(x1)); decade++) {
    const x = px(10 ** decade);
    lines.push(
      `<line x1="${f(x)}" y1="${m.top}" x2="${f(x)}" y2="${height - m.bottom}" stroke="#ddd"/>`,
      `<text x="${f(x)}" y="${height - m.bottom + 16}" text-anchor="middle">${shortCount(10 ** decade)}</text>`,
    );
  }
  for (let decade = lo; decade <= hi; decade++) {
    const v = 10 ** decade;
    lines.push(
      `<line x1="${m.left}" y1="${f(py(v))}" x2="${width - m.right}" y2="${f(py(v))}" stroke="#eee"/>`,
      `<text x="${m.left - 6}" y="${f(py(v) + 4)}" text-anchor="end">${Number(v.toPrecision(3))}</text>`,
    );
  }
  lines.push(
    `<line x1="${m.left}" y1="${f(py(1))}" x2="${width - m.right}" y2="${f(py(1))}" stroke="#444" stroke-dasharray="4 3"/>`,
    `<rect x="${m.left}" y="${m.top}" width="${width - m.left - m.right}" height="${height - m.top - m.bottom}" fill="none" stroke="#444"/>`,
    `<text x="${(width + m.left - m.right) / 2}" y="${height - 12}" text-anchor="middle">requests per day (log scale)</text>`,
    `<text transform="translate(16 ${(height - m.bottom + m.top) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(`cost of ${labels.ensemble} / cost of FaaSKeeper (log scale)`)}</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length] as string;
    const points = s.points.map((p) => `${f(px(p.requestsPerDay))},${f(py(p.ratio))}`).join(' ');
    lines.push(
      `<polyline data-series="${escapeXml(seriesLabel(s))}" fill="none" stroke="${color}" stroke-width="2" points="${points}"/>`,
      `<text x="${width - m.right - 8}" y="${m.top + 16 + 16 * i}" text-anchor="end" fill="${color}">${escapeXml(seriesLabel(s))}</text>`,
    );
  });
  lines.push('</svg>');
  return `${lines.join('\n')}\n`;
}

/**
 * The chart as lines of characters (`width` × `height` cells of plot): each series drawn with its
 * own mark, `-` along ratio 1 (above it FaaSKeeper is cheaper), both axes on log scales and labelled.
 */
export function ratioPlot(series: readonly RatioSeries[], width = 60, height = 14): string[] {
  const [x0, x1] = xRange(series);
  const [lo, hi] = yRange(series);
  const grid = Array.from({ length: height }, () => Array.from({ length: width }, () => ' '));
  const row = (ratio: number) =>
    Math.min(
      height - 1,
      Math.max(0, height - 1 - Math.round(((Math.log10(ratio) - lo) / (hi - lo)) * (height - 1))),
    );
  const col = (rate: number) =>
    Math.round(((Math.log10(rate) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0))) * (width - 1));
  const one = row(1);
  for (let c = 0; c < width; c++) (grid[one] as string[])[c] = '-';
  const marks = ['*', 'o', '+', 'x'];
  series.forEach((s, i) => {
    const mark = marks[i % marks.length] as string;
    // Every column gets the series' value there (interpolated in log x and log y, the axes' scales), so the line is continuous.
    for (let c = 0; c < width; c++) {
      const rate = 10 ** (Math.log10(x0) + ((Math.log10(x1) - Math.log10(x0)) * c) / (width - 1));
      const after = s.points.findIndex((p) => p.requestsPerDay >= rate);
      const b = s.points[Math.max(0, after)];
      const a = s.points[Math.max(0, after - 1)];
      if (a === undefined || b === undefined) continue;
      const t =
        b.requestsPerDay === a.requestsPerDay
          ? 0
          : (Math.log10(rate) - Math.log10(a.requestsPerDay)) /
            (Math.log10(b.requestsPerDay) - Math.log10(a.requestsPerDay));
      (grid[row(a.ratio * (b.ratio / a.ratio) ** t)] as string[])[c] = mark;
    }
  });
  // Each decade's row is labelled with its value (1 is the break-even line).
  const labels = new Map<number, string>();
  for (let decade = lo; decade <= hi; decade++)
    labels.set(row(10 ** decade), String(Number((10 ** decade).toPrecision(3))));
  const label = (r: number) => labels.get(r) ?? '';
  const lines = grid.map((cells, r) => `${label(r).padStart(6)} |${cells.join('')}`);
  lines.push(`${' '.repeat(6)} +${'-'.repeat(width)}`);
  const axis = Array.from({ length: width + 8 }, () => ' ');
  for (let decade = Math.ceil(Math.log10(x0)); decade <= Math.floor(Math.log10(x1)); decade++) {
    const text = shortCount(10 ** decade);
    const at = Math.min(8 + col(10 ** decade) - Math.floor(text.length / 2), axis.length - text.length);
    for (let k = 0; k < text.length; k++) axis[at + k] = text[k] as string;
  }
  lines.push(`${axis.join('').trimEnd()}  requests/day`);
  lines.push(
    `${' '.repeat(8)}${series.map((s, i) => `${marks[i % marks.length]} ${seriesLabel(s)}`).join('   ')}   - ratio 1 (break-even)`,
  );
  return lines;
}
