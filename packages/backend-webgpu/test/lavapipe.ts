/**
 * Points Dawn at the lavapipe driver installed by scripts/install-lavapipe.sh when VK_ICD_FILENAMES is
 * not set, so the tests run after the script without extra set-up (`npm test` runs the script first).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const icd = fileURLToPath(new URL('../../../.gl/lavapipe/lvp_icd.json', import.meta.url));
if (process.env.VK_ICD_FILENAMES === undefined && existsSync(icd)) process.env.VK_ICD_FILENAMES = icd;
