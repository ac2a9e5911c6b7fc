/**
 * The attack gallery and the "Which attack?" page are current: every registered attack has an entry
 * in docs/gallery/attacks.json with the registry's meta and defaults, an option table covering every
 * option, a picture, and the committed pages are exactly what render-attack-pages.mjs renders from the
 * JSON. When this fails, rerun `node docs/scripts/run-make-attack-pages.mjs`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import '@advx/attacks/register-all';
import { getAttack, listAttacks, type AttackMeta } from '@advx/core';

// @ts-expect-error: a plain .mjs module without types
import * as render from './render-attack-pages.mjs';

interface Entry {
  readonly exportName: string;
  readonly meta: AttackMeta;
  readonly defaults: Record<string, unknown>;
  readonly options: readonly { name: string; type: string; doc: string }[];
}
interface Pages {
  renderAttackPage(e: Entry, run: unknown): string;
  renderGalleryIndex(e: readonly Entry[], run: unknown): string;
  renderGallerySidebar(e: readonly Entry[]): string;
  renderWhichAttack(e: readonly Entry[], run: unknown): string;
}
const pages = render as Pages;
const docs = (p: string) => fileURLToPath(new URL(`../${p}`, import.meta.url));
const { run, entries } = JSON.parse(readFileSync(docs('gallery/attacks.json'), 'utf8')) as { run: unknown; entries: Entry[] };
const rerun = 'rerun `node docs/scripts/run-make-attack-pages.mjs`';

describe('attack gallery (docs/gallery) is current', () => {
  it('has one entry per registered attack, with its meta and defaults', () => {
    expect(entries.map((e) => e.meta.name), rerun).toEqual(listAttacks().map((m) => m.name));
    for (const e of entries) {
      const factory = getAttack(e.meta.name);
      expect(JSON.parse(JSON.stringify(factory.meta)), `${e.meta.name}: ${rerun}`).toEqual(e.meta);
      expect(JSON.parse(JSON.stringify(factory.defaults)), `${e.meta.name}: ${rerun}`).toEqual(e.defaults);
    }
  });

  it('documents every option of every attack', () => {
    for (const e of entries) {
      expect(e.options.map((o) => o.name).sort(), e.meta.name).toEqual(Object.keys(e.defaults).sort());
      for (const o of e.options) expect(o.doc, `${e.meta.name}.${o.name} has no one-line doc in its option declaration`).not.toBe('');
    }
  });

  it('has a picture per attack and pages equal to their rendering', () => {
    for (const e of entries) {
      const png = readFileSync(docs(`public/gallery/${e.meta.name}.png`));
      expect(Array.from(png.subarray(1, 4))).toEqual([0x50, 0x4e, 0x47]);
      expect(readFileSync(docs(`gallery/${e.meta.name}.md`), 'utf8'), rerun).toBe(pages.renderAttackPage(e, run));
    }
    expect(readFileSync(docs('gallery/index.md'), 'utf8')).toBe(pages.renderGalleryIndex(entries, run));
    expect(readFileSync(docs('gallery/sidebar.json'), 'utf8')).toBe(pages.renderGallerySidebar(entries));
    expect(readFileSync(docs('which-attack.md'), 'utf8')).toBe(pages.renderWhichAttack(entries, run));
    expect(existsSync(docs('gallery/not-an-attack.md'))).toBe(false);
  });
});
