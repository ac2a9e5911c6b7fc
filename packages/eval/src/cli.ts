#!/usr/bin/env node
/**
 * The `advx` command: `advx eval`, `advx list`, `advx merge` (see `advx --help`).
 *
 * @packageDocumentation
 */
import { runCli } from './node/run-cli.js';

process.exitCode = await runCli(process.argv.slice(2));
