/**
 * Registers every attack of `@advx/attacks` in the `@advx/core` registry (for the command line, the
 * docs tables and the conformance suites). Application code should import factories directly.
 *
 * @packageDocumentation
 */
import { registerAttack } from '@advx/core';

import { adversarialPatch } from './adversarial-patch.js';
import { apgd, apgdCe, apgdDlr } from './apgd.js';
import { apgdT } from './apgd-t.js';
import { bim } from './bim.js';
import { boundaryAttack } from './boundary-attack.js';
import { carliniWagnerL2 } from './carlini-wagner-l2.js';
import { ddn } from './ddn.js';
import { deepfool } from './deepfool.js';
import { ead } from './ead.js';
import { fab, fabT } from './fab.js';
import { fgsm } from './fgsm.js';
import { finiteDifferences } from './finite-differences.js';
import { fmn } from './fmn.js';
import { hopSkipJump } from './hop-skip-jump.js';
import { jsma } from './jsma.js';
import { miFgsm } from './mi-fgsm.js';
import { nes } from './nes.js';
import { onePixel } from './one-pixel.js';
import { pgd } from './pgd.js';
import { simba } from './simba.js';
import { spsa } from './spsa.js';
import { square } from './square.js';
import { substituteTransfer } from './substitute-transfer.js';
import { universalPatch } from './universal-patch.js';
import { universal } from './universal-perturbation.js';

registerAttack(adversarialPatch.meta, adversarialPatch);
registerAttack(apgd.meta, apgd);
registerAttack(apgdCe.meta, apgdCe);
registerAttack(apgdDlr.meta, apgdDlr);
registerAttack(apgdT.meta, apgdT);
registerAttack(bim.meta, bim);
registerAttack(boundaryAttack.meta, boundaryAttack);
registerAttack(carliniWagnerL2.meta, carliniWagnerL2);
registerAttack(ddn.meta, ddn);
registerAttack(deepfool.meta, deepfool);
registerAttack(ead.meta, ead);
registerAttack(fab.meta, fab);
registerAttack(fabT.meta, fabT);
registerAttack(fgsm.meta, fgsm);
registerAttack(finiteDifferences.meta, finiteDifferences);
registerAttack(fmn.meta, fmn);
registerAttack(hopSkipJump.meta, hopSkipJump);
registerAttack(jsma.meta, jsma);
registerAttack(miFgsm.meta, miFgsm);
registerAttack(nes.meta, nes);
registerAttack(onePixel.meta, onePixel);
registerAttack(pgd.meta, pgd);
registerAttack(simba.meta, simba);
registerAttack(spsa.meta, spsa);
registerAttack(square.meta, square);
registerAttack(substituteTransfer.meta, substituteTransfer);
registerAttack(universal.meta, universal);
registerAttack(universalPatch.meta, universalPatch);
