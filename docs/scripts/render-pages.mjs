/**
 * Re-renders the gallery pages and "Which attack?" from the committed docs/gallery/attacks.json without
 * measuring again (after a change to render-attack-pages.mjs): `node docs/scripts/render-pages.mjs`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { writePages } from './render-attack-pages.mjs';

const docs = fileURLToPath(new URL('../', import.meta.url));
const { run, entries } = JSON.parse(readFileSync(join(docs, 'gallery', 'attacks.json'), 'utf8'));
writePages(docs, run, entries);
