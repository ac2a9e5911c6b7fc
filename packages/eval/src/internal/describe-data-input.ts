import type { EvaluationResult } from '../types.js';

const FORMATS: Readonly<Record<string, string>> = {
  'image-folder': 'image folder',
  'image-list-csv': 'CSV list of images',
  'image-list-json': 'JSON list of images',
  idx: 'IDX pair',
  npy: '.npy pair',
  zoo: 'zoo dataset',
};

const CLASS_INDEX: Readonly<Record<string, string>> = {
  'by-name': "classes matched by name to the model's class names",
  'by-position': 'classes by position in code-point order',
  'label-index': 'labels are class indices',
};

const count = (v: unknown, one: string, many = `${one}s`): string => `${String(v)} ${v === 1 ? one : many}`;
const given = (v: unknown): boolean => v !== undefined && v !== null;

/**
 * One sentence on how the data was read and fitted to the model (`config.data`, written by a chunked
 * source such as `openDataset` of `@advx/eval/node`): format and source, order, class mapping, sample,
 * array layout, pixel mapping, resizing, channel conversion, the `--skip-bad` decode check and the
 * skipped files (the first with its reason). `undefined` when the result has no such record. Every
 * value is printed with `String` (a hand-edited results.json may hold anything; the HTML report
 * escapes the sentence).
 *
 * @param result - an evaluation result.
 * @returns the sentence, or `undefined`.
 *
 * @example
 * ```ts
 * describeDataInput(result); // "Data: image folder photos/, 6 samples (all), class folders, then files, sorted by code point; ..."
 * ```
 */
export function describeDataInput(result: EvaluationResult): string | undefined {
  const d = result.config.data as Record<string, unknown> | undefined;
  if (d === undefined || d === null || typeof d !== 'object') return undefined;
  const format = typeof d.format === 'string' ? (FORMATS[d.format] ?? d.format) : 'data';
  const parts: string[] = [];
  const sample =
    d.sample === 'all'
      ? ' (all)'
      : d.sample === 'first'
        ? ' (the first ones)'
        : d.sample === 'stratified'
          ? ' (stratified: classes in turn)'
          : given(d.sample)
            ? ` (${String(d.sample)})`
            : '';
  const order = given(d.order) ? `, ${String(d.order)}` : '';
  parts.push(`Data: ${format}${given(d.source) ? ` ${String(d.source)}` : ''}, ${count(d.count, 'sample')}${sample}${order}`);
  if (given(d.classIndex)) {
    const by = typeof d.classIndex === 'string' ? (CLASS_INDEX[d.classIndex] ?? d.classIndex) : String(d.classIndex);
    parts.push(given(d.classes) ? `${by} (${count(d.classes, 'class', 'classes')})` : by);
  }
  if (Array.isArray(d.sampleShape)) parts.push(`samples [${d.sampleShape.map(String).join(', ')}] ${given(d.dtype) ? String(d.dtype) : ''}`.trimEnd());
  if (given(d.pixels)) parts.push(`pixels ${String(d.pixels)}`);
  if (given(d.resize)) parts.push(`${typeof d.resized === 'number' ? `${count(d.resized, 'image')} resized` : 'resized'} by ${String(d.resize)}`);
  if (given(d.channelConversion))
    parts.push(`${typeof d.channelsConverted === 'number' ? `${count(d.channelsConverted, 'image')}: ` : ''}${String(d.channelConversion)}`);
  if (given(d.alpha)) parts.push(`alpha ${String(d.alpha)}`);
  if (typeof d.decodeChecked === 'number' && d.decodeChecked > 0) parts.push(`${count(d.decodeChecked, 'image')} decoded before the run (--skip-bad)`);
  if (typeof d.skipped === 'number' && d.skipped > 0) {
    const first = Array.isArray(d.skippedFiles) ? (d.skippedFiles[0] as { file?: unknown; reason?: unknown } | undefined) : undefined;
    const firstText = first !== undefined && first !== null && typeof first === 'object' ? ` (first: ${String(first.file)}: ${String(first.reason)})` : '';
    parts.push(`${count(d.skipped, 'file')} skipped as unreadable or damaged${firstText}`);
  }
  if (typeof d.ignoredFiles === 'number' && d.ignoredFiles > 0) parts.push(`${count(d.ignoredFiles, 'other entry', 'other entries')} ignored`);
  return `${parts.join('; ')}.`;
}
