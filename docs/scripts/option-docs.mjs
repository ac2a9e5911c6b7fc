/**
 * The option table of every attack factory exported by @advx/attacks, read from its TypeScript
 * declaration with the compiler API: per factory (by export name), each option's name, type and
 * one-line TSDoc summary, inherited options included (norm, earlyStop of AttackOptionsBase).
 */
import { fileURLToPath } from 'node:url';

import ts from 'typescript';

const entry = fileURLToPath(new URL('../../packages/attacks/src/index.ts', import.meta.url));

/** `{ [exportName]: [{ name, type, doc }] }` for every export whose call takes a partial options object and that has `meta`. */
export function attackOptionDocs() {
  const program = ts.createProgram([entry], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    customConditions: ['@advx/source'],
    strict: true,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  const module = checker.getSymbolAtLocation(source);
  const out = {};
  for (const exported of checker.getExportsOfModule(module)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    if (!(symbol.flags & ts.SymbolFlags.Variable)) continue;
    const type = checker.getTypeOfSymbol(symbol);
    if (!type.getProperty('meta') || !type.getProperty('defaults')) continue;
    const signature = type.getCallSignatures()[0];
    const param = signature?.getParameters()[0];
    if (!param) continue;
    const optionsType = checker.getNonNullableType(checker.getTypeOfSymbol(param));
    out[exported.name] = checker.getPropertiesOfType(optionsType).map((p) => {
      const doc = ts.displayPartsToString(p.getDocumentationComment(checker)).replace(/\s+/g, ' ').trim();
      const t = checker.typeToString(checker.getNonNullableType(checker.getTypeOfSymbol(p)));
      return { name: p.name, type: t, doc };
    });
  }
  return out;
}
