/**
 * Renders the attack gallery (docs/gallery/*.md), its sidebar and the "Which attack?" page from
 * docs/gallery/attacks.json, which make-attack-pages.mjs writes from the registry, the option
 * declarations and a measured run on the zoo. Pure renderers (the tests render again and compare), and
 * writePages, which writes the JSON and every page.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const NEEDS = { 'white-box': 'gradients', score: 'scores (queries)', decision: 'labels only (queries)', transfer: 'a substitute model' };
const pct = (v) => `${(100 * v).toFixed(1)} %`;
const num = (v) => (Number.isInteger(v) ? String(v) : Number(v.toPrecision(4)).toString());
const cell = (s) => String(s).replace(/\|/g, '\\|');
const show = (v) => (typeof v === 'string' ? `\`'${v}'\`` : `\`${JSON.stringify(v)}\``);

/** The measured figure of an entry, in words. */
export function figureText(e) {
  const f = e.figures;
  const at = `${e.setting.norm} ε = ${num(e.setting.epsilon)}`;
  const parts = [`success ${pct(f.successRate)} at ${at}`];
  if (f.medianDistance !== null) parts.push(`median ${e.setting.norm} distance ${num(f.medianDistance)}`);
  return parts.join(', ');
}

/** The cost of an entry per sample, in words. */
export function costText(e) {
  const f = e.figures;
  const parts = [];
  if (f.meanQueries !== null) parts.push(`${Math.round(f.meanQueries)} queries`);
  parts.push(`${num(f.msPerImage)} ms/image`);
  return parts.join(', ');
}

/** One attack's gallery page. */
export function renderAttackPage(e, run) {
  const m = e.meta;
  const ex = e.example;
  const lines = [
    `# ${m.name}`,
    '',
    `\`${e.exportName}\` of \`@advx/attacks\`${m.paper ? ` — ${m.paper}` : ''}`,
    '',
    '| | |',
    '|---|---|',
    `| threat model | ${m.threat} (needs ${NEEDS[m.threat] ?? m.threat}) |`,
    `| kind | ${m.kind} |`,
    `| norms | ${m.norms.join(', ')} |`,
    `| goals | ${m.goals.join(', ')} |`,
    `| randomized | ${m.randomized ? 'yes (seeded)' : 'no'} |`,
    '',
    '## Example',
    '',
    `![${m.name}: original, perturbation, adversarial](/gallery/${m.name}.png)`,
    '',
    `Original, perturbation (magnified to the full grey range), adversarial: the zoo's \`${run.model}\` reads ` +
      `**${ex.before.label}** (${pct(ex.before.confidence)}) on the original and ` +
      `**${ex.after.label}** (${pct(ex.after.confidence)}) on the adversarial` +
      `${ex.success ? '' : ' (the attack did not succeed on this image)'}; ${e.setting.norm} distance ${num(ex.distance)}.`,
    '',
    `Settings: \`${e.exportName}(${JSON.stringify(e.setting.options)})\`, ε = ${num(e.setting.epsilon)} (${e.setting.norm}), ` +
      `${e.setting.goal}, on ${e.setting.access}.`,
    '',
    '## Measured',
    '',
    `On the first ${run.samples} ${run.dataset} test images, ${run.backend}: ${figureText(e)}; ${costText(e)}.`,
    '',
    '## Options',
    '',
    '| option | values | default | description |',
    '|---|---|---|---|',
    ...e.options.map((o) => `| \`${o.name}\` | ${cell(o.type)} | ${cell(show(e.defaults[o.name]))} | ${cell(o.doc)} |`),
    '',
  ];
  return lines.join('\n');
}

/** The gallery's index page. */
export function renderGalleryIndex(entries, run) {
  return [
    '# Attack gallery',
    '',
    `Every attack registered by \`@advx/attacks/register-all\`, run on one ${run.dataset} test digit and the first ` +
      `${run.samples} test images against the zoo's \`${run.model}\` (${run.backend}), by the committed script ` +
      '`docs/scripts/make-attack-pages.mjs`. Each page lists the options from their declarations.',
    '',
    '| attack | threat model | norms | example | measured |',
    '|---|---|---|---|---|',
    ...entries.map((e) => `| [${e.meta.name}](./${e.meta.name}) | ${e.meta.threat} | ${e.meta.norms.join(', ')} | ![${e.meta.name}](/gallery/${e.meta.name}.png) | ${figureText(e)} |`),
    '',
  ].join('\n');
}

/** The gallery's sidebar (VitePress). */
export function renderGallerySidebar(entries) {
  return `${JSON.stringify([{ text: 'All attacks', link: '/gallery/' }, ...entries.map((e) => ({ text: e.meta.name, link: `/gallery/${e.meta.name}` }))], null, 2)}\n`;
}

/** The "Which attack?" page. */
export function renderWhichAttack(entries, run) {
  const rows = (threat) =>
    entries
      .filter((e) => e.meta.threat === threat)
      .map((e) => `| [${e.meta.name}](./gallery/${e.meta.name}) | ${e.meta.kind} | ${e.meta.norms.join(', ')} | ${e.meta.goals.join(', ')} | ${costText(e)} | ${figureText(e)} |`);
  const table = (title, threat, intro) => {
    const r = rows(threat);
    if (r.length === 0) return [];
    return [`## ${title}`, '', intro, '', '| attack | kind | norms | goals | cost per sample | measured |', '|---|---|---|---|---|---|', ...r, ''];
  };
  return [
    '# Which attack?',
    '',
    'Choose by what you can see of the model, then by norm. Fixed-epsilon attacks answer "is there an adversarial ' +
      'within ε?"; minimization attacks find the smallest adversarial per sample, so one run gives the whole curve. ' +
      'For a robustness claim run several (`advx eval` does, and reports the worst case per sample), starting with ' +
      'APGD and AutoAttack.',
    '',
    `Figures: the first ${run.samples} ${run.dataset} test images against the zoo's \`${run.model}\` (${run.backend}), ` +
      'with the settings of each gallery page (few steps or queries for the slow ones, so compare within a row ' +
      'group, not across). Queries are model queries per sample (score- and decision-based attacks).',
    '',
    ...table('White-box (gradients)', 'white-box', 'You have the model: these differentiate through it. The strongest choice when gradients are honest.'),
    ...table('Score-based (output scores)', 'score', 'You can query the model and read its scores, e.g. a remote API: these estimate gradients or search at random.'),
    ...table('Decision-based (labels only)', 'decision', 'You only see the predicted label: these walk along the decision boundary.'),
    ...table('Transfer', 'transfer', 'You train a substitute and attack it.'),
  ].join('\n');
}

/** Writes docs/gallery/attacks.json and every page rendered from it under the `docs` folder. */
export function writePages(docs, run, entries) {
  writeFileSync(join(docs, 'gallery', 'attacks.json'), `${JSON.stringify({ run, entries }, null, 2)}\n`);
  for (const e of entries) writeFileSync(join(docs, 'gallery', `${e.meta.name}.md`), renderAttackPage(e, run));
  writeFileSync(join(docs, 'gallery', 'index.md'), renderGalleryIndex(entries, run));
  writeFileSync(join(docs, 'gallery', 'sidebar.json'), renderGallerySidebar(entries));
  writeFileSync(join(docs, 'which-attack.md'), renderWhichAttack(entries, run));
}
