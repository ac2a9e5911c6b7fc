import { scaleLinear } from 'd3-scale';
import { curveLinear, curveStepAfter, line } from 'd3-shape';

import {
  describeRun,
  detailTable,
  evidenceText,
  exampleGroups,
  formatEpsilon,
  intervalNote,
  intervalText,
  minimizationTable,
  percent,
  selfTestSection,
  summaryTable,
} from './internal/report-data.js';
import { describeDataInput } from './internal/describe-data-input.js';
import { describeModelInput } from './internal/describe-model-input.js';
import type { CurvePoint, EvaluationResult, ExampleRecord } from './types.js';
import { drawable, exampleImages } from './internal/example-images.js';

/**
 * Options of {@link renderHtml}.
 *
 * @public
 */
export interface RenderHtmlOptions {
  /** Class names by label (default: the label numbers). */
  readonly classNames?: readonly string[];
  /** Page title (default `advx robustness evaluation`). */
  readonly title?: string;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
// Each series differs in colour, dash pattern and marker shape; markers are hollow and shrink with the
// series index, so series that coincide (two attacks at 0 %, the ensemble on the strongest attack)
// stay visible as nested markers and interleaved dashes, and the legend names the series they equal.
const DASHES = ['', '8 4', '2 3', '10 3 2 3', '5 2 1 2', '14 4'];
const MARKERS = ['circle', 'square', 'triangle', 'diamond', 'triangle-down', 'plus'] as const;
type MarkerShape = (typeof MARKERS)[number] | 'cross';

interface Series {
  readonly label: string;
  readonly color: string;
  readonly dash: string;
  readonly marker: MarkerShape;
  readonly size: number;
  readonly d: string;
  readonly points: readonly CurvePoint[];
}

const round = (v: number) => Number(v.toFixed(2));

/** An SVG marker of `shape` and half-size `r` centred at (`cx`, `cy`). */
function marker(shape: MarkerShape, cx: number, cy: number, r: number, color: string): string {
  const at = (dx: number, dy: number) => `${round(cx + dx)},${round(cy + dy)}`;
  const stroke = `fill="none" stroke="${color}" stroke-width="1.5"`;
  const attrs = `class="marker" data-shape="${shape}" ${stroke}`;
  switch (shape) {
    case 'circle':
      return `<circle ${attrs} cx="${round(cx)}" cy="${round(cy)}" r="${r}"/>`;
    case 'square':
      return `<rect ${attrs} x="${round(cx - 0.85 * r)}" y="${round(cy - 0.85 * r)}" width="${round(1.7 * r)}" height="${round(1.7 * r)}"/>`;
    case 'triangle':
      return `<polygon ${attrs} points="${at(0, -1.15 * r)} ${at(-r, 0.75 * r)} ${at(r, 0.75 * r)}"/>`;
    case 'triangle-down':
      return `<polygon ${attrs} points="${at(0, 1.15 * r)} ${at(-r, -0.75 * r)} ${at(r, -0.75 * r)}"/>`;
    case 'diamond':
      return `<polygon ${attrs} points="${at(0, -1.2 * r)} ${at(r, 0)} ${at(0, 1.2 * r)} ${at(-r, 0)}"/>`;
    case 'plus':
      return `<path ${attrs} d="M${at(-r, 0)}H${round(cx + r)}M${at(0, -r)}V${round(cy + r)}"/>`;
    case 'cross':
      return `<path ${attrs} d="M${at(-r, -r)}L${at(r, r)}M${at(-r, r)}L${at(r, -r)}"/>`;
  }
}

const dashAttr = (dash: string) => (dash ? `stroke-dasharray="${dash}"` : '');

const escapeHtml = (v: string | number): string =>
  String(v).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

function table(t: { header: string[]; rows: string[][] }, cls: string): string {
  const head = t.header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = t.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table class="${cls}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/**
 * The robust-accuracy-vs-ε plot: one line per attack (a step curve for minimization attacks) and the
 * ensemble (black), each with its own colour, dash pattern and marker.
 */
function plot(r: EvaluationResult): string {
  const width = 720;
  const plotHeight = 360;
  const m = { top: 20, right: 24, bottom: 44, left: 56 };
  const maxEps = Math.max(...r.config.epsilons);
  const x = scaleLinear()
    .domain([0, maxEps])
    .range([m.left, width - m.right]);
  const y = scaleLinear()
    .domain([0, 1])
    .range([plotHeight - m.bottom, m.top]);
  const straight = line<CurvePoint>()
    .x((p) => x(p.epsilon))
    .y((p) => y(p.robustAccuracy))
    .curve(curveLinear);
  const steps = line<CurvePoint>()
    .x((p) => x(p.epsilon))
    .y((p) => y(p.robustAccuracy))
    .curve(curveStepAfter);
  const start: CurvePoint = { epsilon: 0, robustAccuracy: r.cleanAccuracy };
  const series: Series[] = r.attacks.map((a, i) => {
    const style = {
      label: a.label,
      color: COLORS[i % COLORS.length] as string,
      dash: DASHES[i % DASHES.length] as string,
      marker: MARKERS[i % MARKERS.length] as MarkerShape,
      size: Math.max(2.5, 6 - i),
      points: a.perEpsilon.map((p): CurvePoint => ({
        epsilon: p.epsilon,
        robustAccuracy: p.robustAccuracy,
        ...(p.robustInterval ? { interval: p.robustInterval } : {}),
      })),
    };
    if (a.curve) {
      const inRange = a.curve.filter((p) => p.epsilon <= maxEps);
      const last = inRange[inRange.length - 1] as CurvePoint;
      return { ...style, d: steps([...inRange, { epsilon: maxEps, robustAccuracy: last.robustAccuracy }]) ?? '' };
    }
    return { ...style, d: straight([start, ...a.perEpsilon]) ?? '' };
  });
  if (r.attacks.length > 1) {
    series.push({ label: 'ensemble', color: '#000', dash: '4 4', marker: 'cross', size: 3.5, d: straight([start, ...r.ensemble]) ?? '', points: r.ensemble });
  }
  // The first earlier series drawn on exactly the same line, named in the legend ("= pgd").
  const sameAs = series.map((s, i) => series.slice(0, i).find((t) => t.d === s.d)?.label);
  // The legend goes under the plot, one row per series, so long labels are never cut.
  const height = plotHeight + 12 + series.length * 20;
  const xTicks = x
    .ticks(6)
    .map(
      (t) =>
        `<g class="tick"><line x1="${x(t)}" x2="${x(t)}" y1="${plotHeight - m.bottom}" y2="${plotHeight - m.bottom + 5}" stroke="#333"/><text x="${x(t)}" y="${plotHeight - m.bottom + 18}" text-anchor="middle">${t}</text></g>`,
    );
  const yTicks = y
    .ticks(5)
    .map(
      (t) =>
        `<g class="tick"><line x1="${m.left}" x2="${width - m.right}" y1="${y(t)}" y2="${y(t)}" stroke="#eee"/><text x="${m.left - 8}" y="${y(t) + 4}" text-anchor="end">${Math.round(t * 100)} %</text></g>`,
    );
  const paths = series.map(
    (s, i) =>
      `<path class="series" data-attack="${escapeHtml(s.label)}" data-marker="${s.marker}" ${sameAs[i] === undefined ? '' : `data-same-as="${escapeHtml(sameAs[i])}" `}d="${s.d}" fill="none" stroke="${s.color}" stroke-width="2" ${dashAttr(s.dash)}/>` +
      s.points.map((p) => intervalBar(p, x, y, s.color) + marker(s.marker, x(p.epsilon), y(p.robustAccuracy), s.size, s.color)).join(''),
  );
  const legend = series.map(
    (s, i) =>
      `<g class="legend-entry" transform="translate(${m.left},${plotHeight + 14 + i * 20})"><line x1="0" x2="34" y1="0" y2="0" stroke="${s.color}" stroke-width="2" ${dashAttr(s.dash)}/>${marker(s.marker, 17, 0, s.size, s.color)}<text x="42" y="4">${escapeHtml(s.label)}${sameAs[i] === undefined ? '' : ` (= ${escapeHtml(sameAs[i])}, drawn on the same line)`}</text></g>`,
  );
  return `<svg id="robustness-plot" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="robust accuracy versus epsilon">
<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>
${yTicks.join('\n')}
<line x1="${m.left}" x2="${width - m.right}" y1="${plotHeight - m.bottom}" y2="${plotHeight - m.bottom}" stroke="#333"/>
<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${plotHeight - m.bottom}" stroke="#333"/>
${xTicks.join('\n')}
<text x="${(m.left + width - m.right) / 2}" y="${plotHeight - 6}" text-anchor="middle">ε (${escapeHtml(r.config.norm)})</text>
<text transform="translate(14,${(m.top + plotHeight - m.bottom) / 2}) rotate(-90)" text-anchor="middle">robust accuracy</text>
${paths.join('\n')}
${legend.join('\n')}
</svg>`;
}

/** A vertical error bar with caps over a point's confidence interval (none for a point without one). */
function intervalBar(p: CurvePoint, x: (v: number) => number, y: (v: number) => number, color: string): string {
  if (!p.interval) return '';
  const [lo, hi] = p.interval;
  const cx = x(p.epsilon);
  const cap = (v: number) => `<line x1="${round(cx - 3)}" x2="${round(cx + 3)}" y1="${round(y(v))}" y2="${round(y(v))}" stroke="${color}" stroke-width="1"/>`;
  return `<g class="ci" data-lower="${lo}" data-upper="${hi}" opacity="0.7"><line x1="${round(cx)}" x2="${round(cx)}" y1="${round(y(lo))}" y2="${round(y(hi))}" stroke="${color}" stroke-width="1"/>${cap(lo)}${cap(hi)}</g>`;
}

function dataUrl(png: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < png.length; i += 0x8000) binary += String.fromCharCode(...png.subarray(i, i + 0x8000));
  return `data:image/png;base64,${btoa(binary)}`;
}

function exampleFigure(r: EvaluationResult, e: ExampleRecord, classNames: readonly string[] | undefined): string {
  const name = (c: number) => escapeHtml(classNames?.[c] ?? String(c));
  const img = exampleImages(e, r.config.model.bounds);
  const eps = e.epsilon === null ? 'minimal' : `ε=${escapeHtml(formatEpsilon(e.epsilon))}`;
  return `<figure class="example" data-index="${escapeHtml(e.index)}" data-epsilon="${e.epsilon === null ? 'minimal' : escapeHtml(e.epsilon)}">
<div class="triple"><img alt="original" src="${dataUrl(img.original)}"/><img alt="perturbation" src="${dataUrl(img.perturbation)}"/><img alt="adversarial" src="${dataUrl(img.adversarial)}"/></div>
<figcaption><b>${escapeHtml(e.attack)}</b> ${eps}, #${escapeHtml(e.index)}<br/>${name(e.cleanPrediction)} (${percent(e.cleanConfidence)}) → <b>${name(e.adversarialPrediction)}</b> (${percent(e.adversarialConfidence)})<br/>‖δ‖=${escapeHtml(e.perturbation)}, δ ×${Number(img.magnification.toPrecision(3))}</figcaption>
</figure>`;
}

/** The example images, one group per ε (then the minimal adversarials of minimization attacks). */
function imageGrid(r: EvaluationResult, classNames: readonly string[] | undefined): string {
  const groups = exampleGroups(r, (e) => drawable(e.shape));
  if (!groups.some((g) => g.examples.length > 0)) {
    return '<p>No example images (no attack succeeded, no examples were kept, or the inputs are not images).</p>';
  }
  const sections = groups.map((g) => {
    // One row per attack, so that the attacks line up across the ε groups.
    const attacks = [...new Set(g.examples.map((e) => e.attack))];
    const rows = attacks.map(
      (attack) =>
        `<div class="grid" data-attack="${escapeHtml(attack)}">\n${g.examples
          .filter((e) => e.attack === attack)
          .map((e) => exampleFigure(r, e, classNames))
          .join('\n')}\n</div>`,
    );
    const body = rows.length ? rows.join('\n') : '<p class="no-examples">No attack succeeded at this ε on the samples examined.</p>';
    return `<section class="example-group" data-epsilon="${g.epsilon === null ? 'minimal' : escapeHtml(g.epsilon)}">\n<h3>${escapeHtml(g.title)}</h3>\n${body}\n</section>`;
  });
  return `<p>The first successful adversarials of each attack at each ε: original, perturbation (magnified; grey = unchanged), adversarial — with the predicted class and its confidence.</p>\n${sections.join('\n')}`;
}

/**
 * Renders an {@link EvaluationResult} as one self-contained HTML page: the robust-accuracy-vs-ε
 * plot per attack (inline SVG built with d3-scale and d3-shape), the summary and detail tables,
 * the gradient-masking warnings with their evidence, and a grid of example images per ε (original,
 * perturbation magnified, adversarial, with predicted labels and confidences) inlined as PNG data
 * URLs. No external resources.
 *
 * @param result - an evaluation result.
 * @param options - `classNames`, `title`.
 * @returns the HTML text.
 *
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * await writeFile('report.html', renderHtml(result, { classNames: DATASETS.mnist.classNames }));
 * ```
 * @public
 */
export function renderHtml(result: EvaluationResult, options: RenderHtmlOptions = {}): string {
  const title = options.title ?? 'advx robustness evaluation';
  const minimization = minimizationTable(result);
  const warnings = result.warnings.length
    ? `<ul class="warnings">${result.warnings.map((w) => `<li class="warning" data-code="${escapeHtml(w.code)}"><b>${escapeHtml(w.code)}</b>: ${escapeHtml(w.message)}<br/><small>evidence: ${escapeHtml(evidenceText(w))}</small></li>`).join('\n')}</ul>`
    : '<p class="no-warnings">No gradient-masking diagnostic fired.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"/><title>${escapeHtml(title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1100px; }
table { border-collapse: collapse; margin: 8px 0 18px; } th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; } thead { background: #f3f3f3; }
svg text { font: 12px system-ui, sans-serif; }
.warnings li { background: #fff4e5; border-left: 4px solid #f0a020; padding: 6px 10px; margin: 6px 0; list-style: none; }
.grid { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 12px; } h3 { margin: 14px 0 6px; } .example { margin: 0; width: 240px; border: 1px solid #ddd; padding: 6px; }
.triple img { width: 72px; height: 72px; image-rendering: pixelated; margin-right: 4px; border: 1px solid #eee; }
figcaption { font-size: 12px; }
</style></head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(describeRun(result))}</p>
${((m) => (m === undefined ? '' : `<p>${escapeHtml(m)}</p>\n`))(describeModelInput(result))}${((d) => (d === undefined ? '' : `<p>${escapeHtml(d)}</p>\n`))(describeDataInput(result))}<p>Clean accuracy: <b>${percent(result.cleanAccuracy)}</b> ${escapeHtml(intervalText(result.cleanInterval))}(${result.n} samples). ${escapeHtml(intervalNote(result))}</p>
<h2>Robust accuracy vs ε</h2>
${plot(result)}
<h2>Summary</h2>
${table(summaryTable(result), 'summary')}
<h2>Gradient-masking diagnostics</h2>
${warnings}
${((t) => (t === undefined ? '' : `<h2>Attack self-test</h2>\n<p>${escapeHtml(t.text)}</p>\n${table(t, 'self-test')}\n`))(selfTestSection(result))}<h2>Details</h2>
${table(detailTable(result), 'details')}
${minimization.rows.length ? `<h2>Minimization attacks</h2>\n${table(minimization, 'minimization')}` : ''}
<h2>Examples</h2>
${imageGrid(result, options.classNames)}
<p><small>schema ${escapeHtml(result.schema)}; generated by @advx/eval</small></p>
</body></html>
`;
}
