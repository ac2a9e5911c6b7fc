#!/bin/sh
# Bundles bench/wasm-kernels.mjs (see the command in its header).
cd "$(dirname "$0")/../.." && npx esbuild bench/wasm-kernels.mjs --bundle --platform=node --format=esm --main-fields=module,main \
  --outfile=bench/wasm-kernels-scratch/bench.mjs --log-level=error \
  --banner:js="import { createRequire as __cr } from 'node:module'; import { dirname as __dn } from 'node:path'; import { fileURLToPath as __fp } from 'node:url'; const require = __cr(import.meta.url); const __filename = __fp(import.meta.url); const __dirname = __dn(__filename);"
