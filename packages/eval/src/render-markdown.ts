import { describeRun, detailTable, evidenceText, minimizationTable, percent, summaryTable } from './internal/report-data.js';
import type { EvaluationResult } from './types.js';

function table(t: { header: string[]; rows: string[][] }): string {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(t.header), line(t.header.map(() => '---')), ...t.rows.map(line)].join('\n');
}

/**
 * Renders an {@link EvaluationResult} as a Markdown report: what was run, clean accuracy, the
 * robust-accuracy table (attacks × ε plus the ensemble), per-attack details (success rate,
 * perturbation norms, queries), minimization attacks' empirical robustness, and the gradient-masking
 * warnings with their evidence. Pure function: works in browsers too.
 *
 * @param result - an evaluation result.
 * @returns the Markdown text.
 *
 * @example
 * ```ts
 * const markdown = renderMarkdown(await evaluate(options));
 * ```
 * @public
 */
export function renderMarkdown(result: EvaluationResult): string {
  const minimization = minimizationTable(result);
  const parts = [
    '# advx robustness evaluation',
    '',
    describeRun(result),
    '',
    `Clean accuracy: **${percent(result.cleanAccuracy)}** (${result.n} samples).`,
    '',
    '## Robust accuracy',
    '',
    table(summaryTable(result)),
    '',
    '## Details',
    '',
    table(detailTable(result)),
    '',
  ];
  if (minimization.rows.length) parts.push('## Minimization attacks', '', table(minimization), '');
  parts.push('## Gradient-masking diagnostics', '');
  if (result.warnings.length === 0) parts.push('No diagnostic fired.', '');
  for (const w of result.warnings) parts.push(`- **${w.code}**: ${w.message} (evidence: ${evidenceText(w)})`);
  if (result.warnings.length) parts.push('');
  return parts.join('\n');
}
