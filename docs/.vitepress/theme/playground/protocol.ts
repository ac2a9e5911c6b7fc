/** Messages between the playground page and its Web Worker (where every tensor lives). */

/** A zoo model the playground offers. */
export type PlaygroundModel = 'mnist-cnn' | 'mnist-cnn-at' | 'mnist-mlp';
/** An attack the playground offers. */
export type PlaygroundAttack = 'fgsm' | 'pgd' | 'apgd-ce' | 'deepfool' | 'square';

/** A prediction: top class and its probability, and every class's probability. */
export interface Prediction {
  readonly label: number;
  readonly confidence: number;
  readonly probabilities: readonly number[];
}

/** Page → worker. */
export type Request =
  | { readonly type: 'init'; readonly base: string }
  | { readonly type: 'digit'; readonly index: number }
  | { readonly type: 'attack'; readonly id: number; readonly model: PlaygroundModel; readonly attack: PlaygroundAttack; readonly epsilon: number; readonly pixels: Float32Array }
  | { readonly type: 'evaluate'; readonly id: number; readonly files: readonly { readonly path: string; readonly file: File }[]; readonly epsilons: readonly number[] }
  | { readonly type: 'stop'; readonly id: number };

/** Worker → page. */
export type Reply =
  | { readonly type: 'ready'; readonly backend: string; readonly detail: string; readonly urls: readonly string[] }
  | { readonly type: 'digit'; readonly index: number; readonly pixels: Float32Array; readonly label: number }
  | { readonly type: 'progress'; readonly id: number; readonly fraction: number; readonly step: number; readonly steps: number; readonly text: string }
  | {
      readonly type: 'attacked';
      readonly id: number;
      readonly before: Prediction;
      readonly after: Prediction;
      readonly adversarial: Float32Array;
      readonly perturbation: Float32Array;
      readonly linf: number;
      readonly success: boolean;
      readonly ms: number;
    }
  | { readonly type: 'evaluated'; readonly id: number; readonly html: string; readonly summary: string }
  | { readonly type: 'stopped'; readonly id: number }
  | { readonly type: 'error'; readonly id?: number; readonly message: string };
