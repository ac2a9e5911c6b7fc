#!/usr/bin/env node
// The `advx` command. This file is committed (not built) so that `npm install` / `npm ci` can link it
// into node_modules/.bin before `dist/` exists; it runs the built command in dist/cli.js.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write(
    `advx: error: the command is not built (${fileURLToPath(cli)} is missing). ` +
      'In a clone of the advx repository run `npm run build` (or `npm start`) first.\n',
  );
  process.exit(1);
}
await import(cli.href);
