import type { EvaluationResult, ExampleRecord, MaskingWarning } from '../types.js';

export const percent = (v: number) => `${(100 * v).toFixed(1)} %`;

/**
 * An ε as a reader writes it: short decimals as they are (`0.1`, `0.25`), multiples of 1/255 as
 * `k/255` (`8/255` instead of `0.03137254901960784`), anything else to 4 significant digits.
 */
export function formatEpsilon(e: number): string {
  const s = String(e);
  if (!/\.\d{5,}/.test(s) && !s.includes('e')) return s;
  const k = Math.round(e * 255);
  if (k > 0 && Math.abs(e * 255 - k) < 1e-9) return `${k}/255`;
  return Number(e.toPrecision(4)).toString();
}

const num = (v: number | null, digits = 3) => (v === null ? '–' : Number(v.toPrecision(digits)).toString());

/** One line describing what was evaluated. */
export function describeRun(r: EvaluationResult): string {
  const c = r.config;
  const model = c.model.id ?? `model [${c.model.inputShape.join(', ')}] → ${c.model.numClasses} classes`;
  const data = c.dataset ?? 'data';
  const slice = r.shard ? `, shard ${r.shard.index + 1}/${r.shard.count} (samples ${r.range[0]}–${r.range[1] - 1})` : '';
  const e = c.ensemble;
  const attacks = e
    ? `${e.name} (${e.version} version${e.omitted.length ? `; left out: ${e.omitted.join('; ')}` : ''}), ${c.mode} attacks`
    : `${c.mode} attacks`;
  const budget = c.maxPasses !== undefined ? `; white-box budget ${c.maxPasses} passes (forward + backward) per sample and ε` : '';
  return `${model} on ${r.n} ${data} samples${slice}; ${c.norm} ε ∈ {${c.epsilons.map(formatEpsilon).join(', ')}}; ${attacks}${budget}; seed ${c.seed}`;
}

/** The attack self-test's sentence and table (attack, passed, pass rate, indeterminate), when it ran. */
export function selfTestSection(r: EvaluationResult): { text: string; header: string[]; rows: string[][] } | undefined {
  const t = r.selfTest;
  if (t === undefined) return undefined;
  const text =
    `Binarization test (Zimmermann et al. 2022): around each of the first ${t.samples} samples, a binary classifier on the model's ${t.features === 'penultimate' ? 'penultimate-layer' : 'logit'} ` +
    `features with an adversarial known to exist within ε ${formatEpsilon(t.epsilon)}; an attack passes a test when it finds that side. Below ${percent(t.threshold)} the attack misses adversarials that exist.` +
    (t.features === 'logits' ? ' (Logit features make the test easy: even one-step attacks pass most.)' : '');
  const header = ['attack', 'passed', 'pass rate', 'indeterminate'];
  const rows = t.attacks.map((a) => [
    a.label,
    `${a.pass} / ${a.pass + a.fail}`,
    `${percent(a.passRate)} ${intervalText(a.interval)}`.trim(),
    String(a.indeterminate),
  ]);
  return { text, header, rows };
}

/** The summary table: header and rows of cells (attack, one robust accuracy per ε, time). */
export function summaryTable(r: EvaluationResult): { header: string[]; rows: string[][] } {
  const header = ['attack', ...r.config.epsilons.map((e) => `ε=${formatEpsilon(e)}`), 'time'];
  const rows = r.attacks.map((a) => [
    a.label,
    ...a.perEpsilon.map((p) => `${percent(p.robustAccuracy)} ${intervalText(p.robustInterval)}`.trim()),
    `${(a.timeMs / 1000).toFixed(1)} s`,
  ]);
  rows.push([
    r.config.mode === 'sequential' ? 'ensemble (after all attacks)' : 'ensemble (worst case per sample)',
    ...r.ensemble.map((p) => `${percent(p.robustAccuracy)} ${intervalText(p.interval)}`.trim()),
    '',
  ]);
  return { header, rows };
}

/** `[lo–hi %] ` of a confidence interval (with a trailing space), or '' when the result has none (written before advx had them). */
export function intervalText(interval: readonly [number, number] | undefined): string {
  if (!interval) return '';
  return `[${(100 * interval[0]).toFixed(1)}–${(100 * interval[1]).toFixed(1)} %] `;
}

/** The sentence that says how the intervals were computed. */
export function intervalNote(r: EvaluationResult): string {
  if (!r.intervals) return '';
  return `Brackets: ${Math.round(100 * r.intervals.confidence)} % Clopper–Pearson (exact binomial) confidence intervals over the ${r.n} samples.`;
}

/** The detail table: per attack and ε the success rate, mean/median perturbation and queries; per attack its model passes per sample. */
export function detailTable(r: EvaluationResult): { header: string[]; rows: string[][] } {
  const header = ['attack', 'ε', 'robust accuracy', 'success rate', 'attacked', 'mean ‖δ‖', 'median ‖δ‖', 'mean queries', 'passes / sample (fwd, bwd)'];
  const rows = r.attacks.flatMap((a) =>
    a.perEpsilon.map((p, e) => [
      a.label,
      formatEpsilon(p.epsilon),
      percent(p.robustAccuracy),
      percent(p.successRate),
      String(p.attacked),
      num(p.meanPerturbation),
      num(p.medianPerturbation),
      num(p.meanQueries, 6),
      // The attack's white-box passes over all ε, per evaluated sample: on its first row.
      e === 0 && a.passes && r.n > 0 ? `${num(a.passes.forward / r.n, 4)}, ${num(a.passes.backward / r.n, 4)}` : e === 0 ? '–' : '',
    ]),
  );
  return { header, rows };
}

/** Minimization attacks: empirical robustness and minimal perturbations. */
export function minimizationTable(r: EvaluationResult): { header: string[]; rows: string[][] } {
  const header = ['attack', 'empirical robustness ρ̂', 'mean minimal ‖δ‖', 'median minimal ‖δ‖'];
  const rows = r.attacks
    .filter((a) => a.curve !== undefined)
    .map((a) => [a.label, num(a.empiricalRobustness ?? null), num(a.minimalPerturbation?.mean ?? null), num(a.minimalPerturbation?.median ?? null)]);
  return { header, rows };
}

/** `key=value` list of a warning's evidence. */
export function evidenceText(w: MaskingWarning): string {
  return Object.entries(w.evidence)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
}

/** The examples of one ε (or the unrestricted minimal adversarials, `epsilon: null`). */
export interface ExampleGroup {
  readonly epsilon: number | null;
  /** `ε=0.1`, or `minimal ‖δ‖ (unrestricted)`. */
  readonly title: string;
  readonly examples: readonly ExampleRecord[];
}

/**
 * The examples grouped by ε, one group per configured ε (in the configured order, possibly empty),
 * then one for the minimal adversarials of minimization attacks when there are any; within a group in
 * attack order, then by index.
 */
export function exampleGroups(r: EvaluationResult, keep: (e: ExampleRecord) => boolean = () => true): ExampleGroup[] {
  const examples = r.examples.filter(keep);
  const groups: ExampleGroup[] = r.config.epsilons.map((epsilon) => ({
    epsilon,
    title: `ε=${formatEpsilon(epsilon)}`,
    examples: examples.filter((e) => e.epsilon === epsilon),
  }));
  const minimal = examples.filter((e) => e.epsilon === null);
  if (minimal.length) groups.push({ epsilon: null, title: 'minimal ‖δ‖ (unrestricted)', examples: minimal });
  return groups;
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '') || 'attack';

/** File stem of an example's PNGs under `images/`: `<attack>-eps<ε>-<index>` or `<attack>-minimal-<index>`. */
export function exampleStem(e: ExampleRecord): string {
  return `${slug(e.attack)}-${e.epsilon === null ? 'minimal' : `eps${e.epsilon}`}-${e.index}`;
}

/** Whether examples of this per-sample shape can be drawn (`[h, w]`, `[h, w, 1]` or `[h, w, 3]`). */
export function drawable(shape: readonly number[]): boolean {
  return (shape.length === 2 || (shape.length === 3 && (shape[2] === 1 || shape[2] === 3))) && shape.every((d) => d > 0);
}
