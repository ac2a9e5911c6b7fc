import { AdvxError } from '@advx/core';

/** Compares strings by Unicode code point (the order of Python's `sorted`, used by torchvision's ImageFolder). */
export function byCodePoint(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i] as string).codePointAt(0)! - (y[i] as string).codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** How class names of the data became class indices of the model. */
export interface ClassMapping {
  /** `by-name`: each name is a model class name; `by-position`: the i-th name (sorted) is class i. */
  readonly by: 'by-name' | 'by-position';
  /** Class index of each data class name. */
  readonly index: ReadonlyMap<string, number>;
  /** Class names by class index for the reports. */
  readonly classNames: readonly string[];
}

/**
 * Maps the sorted class names of the data (`what`: "class folder", "label") onto the model's classes:
 * by name when the model has class names and every data class is one of them, else by position.
 *
 * @throws AdvxError `LABEL_OUT_OF_RANGE` naming the first class that has no model class.
 */
export function mapClassNames(names: readonly string[], numClasses: number, modelClassNames: readonly string[] | undefined, what: string): ClassMapping {
  if (modelClassNames !== undefined && modelClassNames.length > 0 && names.every((n) => modelClassNames.includes(n))) {
    return { by: 'by-name', index: new Map(names.map((n) => [n, modelClassNames.indexOf(n)])), classNames: [...modelClassNames] };
  }
  if (names.length > numClasses) {
    const extra = names[numClasses] as string;
    const hint =
      modelClassNames && modelClassNames.length > 0
        ? ` and '${names.find((n) => !modelClassNames.includes(n)) ?? extra}' is not one of the model's class names (${modelClassNames.slice(0, 10).join(', ')}${modelClassNames.length > 10 ? ', …' : ''})`
        : '';
    throw new AdvxError(
      'LABEL_OUT_OF_RANGE',
      `the data has ${names.length} ${what}s but the model has ${numClasses} classes: ${what} '${extra}' (position ${numClasses} in sorted order) has no class${hint}. ` +
        `Remove the extra ${what}s, or name them after the model's classes.`,
      { classes: names.length, numClasses },
    );
  }
  return { by: 'by-position', index: new Map(names.map((n, i) => [n, i])), classNames: [...names] };
}
