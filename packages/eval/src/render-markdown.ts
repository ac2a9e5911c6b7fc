import {
  describeRun,
  detailTable,
  drawable,
  evidenceText,
  exampleGroups,
  exampleStem,
  intervalNote,
  intervalText,
  minimizationTable,
  percent,
  selfTestSection,
  summaryTable,
} from './internal/report-data.js';
import { describeDataInput } from './internal/describe-data-input.js';
import { describeModelInput } from './internal/describe-model-input.js';
import type { EvaluationResult } from './types.js';

function table(t: { header: string[]; rows: string[][] }): string {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(t.header), line(t.header.map(() => '---')), ...t.rows.map(line)].join('\n');
}

/** The examples, one table per ε, linking the PNGs that writeReport puts under `images/`. */
function examplesSection(result: EvaluationResult): string[] {
  const groups = exampleGroups(result, (e) => drawable(e.shape));
  if (!groups.some((g) => g.examples.length > 0)) return [];
  const parts = [
    '## Examples',
    '',
    'The first successful adversarials of each attack at each ε: original, perturbation (magnified; grey = unchanged) and adversarial, ' +
      'with the predicted class and its confidence. The images are the files `writeReport` writes under `images/`.',
    '',
  ];
  for (const group of groups) {
    parts.push(`### ${group.title}`, '');
    if (group.examples.length === 0) {
      parts.push('No attack succeeded at this ε on the samples examined.', '');
      continue;
    }
    const rows = group.examples.map((e) => {
      const img = (kind: string) => `![${kind}](images/${exampleStem(e)}-${kind}.png)`;
      return [
        e.attack,
        `#${e.index}`,
        img('original'),
        img('perturbation'),
        img('adversarial'),
        `${e.cleanPrediction} (${percent(e.cleanConfidence)}) → ${e.adversarialPrediction} (${percent(e.adversarialConfidence)})`,
        String(e.perturbation),
      ];
    });
    parts.push(table({ header: ['attack', 'sample', 'original', 'perturbation', 'adversarial', 'prediction', '‖δ‖'], rows }), '');
  }
  return parts;
}

/**
 * Renders an {@link EvaluationResult} as a Markdown report: what was run, clean accuracy, the
 * robust-accuracy table (attacks × ε plus the ensemble), per-attack details (success rate,
 * perturbation norms, queries), minimization attacks' empirical robustness, the gradient-masking
 * warnings with their evidence, and the example adversarials in one table per ε (image links to the
 * `images/` PNGs that `writeReport` writes next to `report.md`). Pure function: works in browsers too.
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
  const modelInput = describeModelInput(result);
  const dataInput = describeDataInput(result);
  const parts = [
    '# advx robustness evaluation',
    '',
    describeRun(result),
    '',
    ...(modelInput !== undefined ? [modelInput, ''] : []),
    ...(dataInput !== undefined ? [dataInput, ''] : []),
    `Clean accuracy: **${percent(result.cleanAccuracy)}** ${intervalText(result.cleanInterval)}(${result.n} samples). ${intervalNote(result)}`,
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
  const selfTest = selfTestSection(result);
  if (selfTest) parts.push('## Attack self-test', '', selfTest.text, '', table(selfTest), '');
  parts.push(...examplesSection(result));
  return parts.join('\n');
}
