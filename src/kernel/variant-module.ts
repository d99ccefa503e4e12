// Loading a user's variant: a TypeScript or JavaScript module that names the
// change and replaces kernel functions by their kernel names (docs: README,
// "Modelling a patch"). The module is compiled with the project's TypeScript to
// CommonJS and evaluated with a `require` that knows one module, 'smpcheck'
// (this package's API); its default export is checked before use.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { z } from 'zod';
import { SmpError } from '../scenario/errors.js';
import { DEFAULT_KERNEL, type Variant } from './variants.js';
import { isKernelFunction } from './dispatch.js';
// Every modelled kernel function, so that the names a module replaces can be checked.
import './index.js';

const ModuleSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.+-]+$/, 'a name of letters, digits and ._+-'),
  description: z.string().min(1),
  removed: z.array(z.string()).optional(),
  overrides: z.record(z.string(), z.function()).optional(),
});

const cache = new Map<string, Variant>();

export function isVariantPath(name: string): boolean {
  return name.includes('/') || /\.(ts|js|cjs|mjs)$/.test(name);
}

export function loadVariantModule(path: string, api: () => unknown): Variant {
  const file = resolve(path);
  const have = cache.get(file);
  if (have) return have;
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    throw new SmpError('SMP200', `cannot read the variant module '${path}'`);
  }
  const req = createRequire(import.meta.url);
  let code = source;
  if (file.endsWith('.ts')) {
    let ts: typeof import('typescript');
    try {
      ts = req('typescript') as typeof import('typescript');
    } catch {
      throw new SmpError('SMP200', `compiling '${path}' needs the 'typescript' package (npm ci installs it); or pass a .js module`);
    }
    const out = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
      reportDiagnostics: true,
      fileName: file,
    });
    const diag = out.diagnostics?.[0];
    if (diag) {
      throw new SmpError('SMP200', `'${path}': ${ts.flattenDiagnosticMessageText(diag.messageText, ' ')}`);
    }
    code = out.outputText;
  }
  const mod: { exports: Record<string, unknown> } = { exports: {} };
  const requireApi = (name: string): unknown => {
    if (name === 'smpcheck') return api();
    throw new SmpError('SMP200', `'${path}' may import only 'smpcheck', not '${name}'`);
  };
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    new Function('module', 'exports', 'require', code)(mod, mod.exports, requireApi);
  } catch (e) {
    if (e instanceof SmpError) throw e;
    throw new SmpError('SMP200', `'${path}' failed to load: ${(e as Error).message}`);
  }
  const parsed = ModuleSchema.safeParse(mod.exports.default ?? mod.exports);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SmpError('SMP200', `'${path}' must export default { name, description, removed?, overrides? }: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  const m = parsed.data;
  for (const k of Object.keys(m.overrides ?? {})) {
    if (!isKernelFunction(k)) {
      throw new SmpError('SMP200', `'${path}' overrides '${k}', which is not a modelled kernel function (smpcheck variants --functions lists them)`);
    }
  }
  const v: Variant = {
    name: m.name,
    base: DEFAULT_KERNEL,
    description: m.description,
    removed: new Set(m.removed ?? []),
    overrides: m.overrides as Variant['overrides'],
    file,
  };
  cache.set(file, v);
  return v;
}
