/**
 * The `advx` bin: npm links `bin/advx.js` at install time (it is committed, so the link exists in a fresh
 * clone before `dist/` is built), and the link runs the built command — or says how to build it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../../..');
const pkgDir = path.resolve(__dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { bin: Record<string, string>; files: string[] };

describe('advx bin', () => {
  it('points at a committed, executable file that the package publishes', () => {
    const bin = path.join(pkgDir, pkg.bin.advx as string);
    expect(pkg.bin.advx).toBe('./bin/advx.js');
    expect(pkg.files).toContain('bin');
    expect(statSync(bin).mode & 0o111).not.toBe(0);
    const tracked = execFileSync('git', ['ls-files', '--stage', 'packages/eval/bin/advx.js'], { cwd: root, encoding: 'utf8' });
    expect(tracked).toMatch(/^100755 /);
  });

  it('is linked into node_modules/.bin by npm and runs the command (or names the build step)', () => {
    const link = path.join(root, 'node_modules/.bin/advx');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(realpathSync(link)).toBe(path.join(pkgDir, 'bin/advx.js'));
    const r = spawnSync(link, ['list', '--json'], { cwd: root, encoding: 'utf8' });
    if (existsSync(path.join(pkgDir, 'dist/cli.js'))) {
      expect(r.status).toBe(0);
      const listed = JSON.parse(r.stdout) as { attacks: { name: string }[] };
      expect(listed.attacks.map((a) => a.name)).toContain('pgd');
    } else {
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^advx: error: the command is not built .*npm run build/);
    }
  });
});
