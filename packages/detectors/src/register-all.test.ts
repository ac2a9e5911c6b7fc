import { describe, expect, it } from 'vitest';

import { getDetector, listDetectors } from '@advx/core';

import './register-all.js';
import { featureSqueezing, saliencyMap, spectre } from './index.js';

describe('@advx/detectors/register-all', () => {
  it('registers every detector, inspector and explanation under its name and kind', () => {
    const byName = Object.fromEntries(listDetectors().map((m) => [m.name, m.kind]));
    expect(byName).toMatchObject({
      'feature-squeezing': 'input',
      'occlusion-consistency': 'input',
      hardness: 'input',
      'spectral-signatures': 'dataset',
      spectre: 'dataset',
      'activation-clustering': 'dataset',
      'saliency-map': 'explanation',
      'occlusion-map': 'explanation',
    });
    expect(getDetector('feature-squeezing')).toBe(featureSqueezing);
    expect(getDetector('spectre')).toBe(spectre);
    expect(getDetector('saliency-map')).toBe(saliencyMap);
  });
});
