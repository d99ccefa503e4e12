// Loading a user's variant: a TypeScript or JavaScript module that names the
// change and replaces kernel functions by their kernel names (docs: README,
// "Modelling a patch"). The module is compiled with the project's TypeScript to
// CommonJS and evaluated with a `require` that knows one module, 'smpcheck'
// (this package's API); its default export is checked before use. A module is
// only ever loaded from the command line (never from a trace), it is identified by
// the sha256 of its source, and its replacements run guarded: what they yield is
// checked and what they throw is the user's error (SMP204), not an internal one.

import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { lazySchema } from '../zod.js';
import { SmpError } from '../scenario/errors.js';
import { DEFAULT_KERNEL, type OverrideFn, type Variant } from './variants.js';
import { isKernelFunction } from './dispatch.js';
// Every modelled kernel function, so that the names a module replaces can be checked.
import './index.js';
import { AssertionFailed, BoundExceeded } from '../machine/machine.js';
import { readBounded } from '../scenario/bounded-read.js';
import { sha256 } from '../sha256.js';
import type { Op } from '../machine/ops.js';

/** A variant module is a small source file; a larger one is refused before it is read. */
export const VARIANT_MODULE_BYTES_MAX = 1_000_000;


const moduleSchema = lazySchema((z) => z.object({
  name: z.string().regex(/^[A-Za-z0-9_.+-]+$/, 'a name of letters, digits and ._+-'),
  description: z.string().min(1),
  removed: z.array(z.string()).optional(),
  overrides: z.record(z.string(), z.function()).optional(),
}));

const cache = new Map<string, Variant>();

export function isVariantPath(name: string): boolean {
  return name.includes('/') || /\.(ts|js|cjs|mjs)$/.test(name);
}

export function loadVariantModule(path: string, api: () => unknown): Variant {
  const file = resolve(path);
  let source: string;
  try {
    source = readBounded(file, VARIANT_MODULE_BYTES_MAX, 'the variant module');
  } catch (e) {
    if (e instanceof SmpError) throw new SmpError(e.code === 'SMP004' ? 'SMP200' : e.code, e.message);
    throw e;
  }
  const hash = sha256(source);
  const have = cache.get(`${file}\0${hash}`);
  if (have) return have;
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
  const parsed = moduleSchema().safeParse(mod.exports.default ?? mod.exports);
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
    overrides: guarded(path, m.overrides as Record<string, OverrideFn> | undefined),
    file,
    sha256: hash,
  };
  cache.set(`${file}\0${hash}`, v);
  return v;
}

/**
 * Each replacement, made to fail as the user's error: what it throws (other than the
 * engine's own BUG_ON and bound signals) becomes SMP204 naming the module and the
 * function, and a replacement that does not return a generator is refused the same way.
 */
function guarded(path: string, overrides: Record<string, OverrideFn> | undefined): Variant['overrides'] {
  if (!overrides) return undefined;
  const out: Record<string, OverrideFn> = {};
  for (const [name, fn] of Object.entries(overrides)) {
    const fail = (what: string): SmpError => new SmpError('SMP204', `variant module '${path}': its ${name}() ${what}`);
    out[name] = function* (...args: unknown[]) {
      let it: unknown;
      try {
        it = fn(...args);
      } catch (e) {
        throw passThrough(e) ?? fail(`threw: ${describe(e)}`);
      }
      if (!isGenerator(it)) throw fail('is not a generator function (write it as function* or *name(...) { ... })');
      // Drives the replacement step by step, so that each op it yields is checked
      // before the machine runs it, and what it throws is reported as its own.
      let input: number | undefined;
      for (;;) {
        let r: IteratorResult<unknown, unknown>;
        try {
          r = input === undefined ? it.next() : it.next(input);
        } catch (e) {
          throw passThrough(e) ?? fail(`threw: ${describe(e)}`);
        }
        if (r.done) return r.value;
        const bad = opProblem(r.value);
        if (bad) throw fail(`yielded ${bad}; yield the ops of the smpcheck API (k.READ_ONCE(...), k.smp_mb(...), ...)`);
        input = yield r.value as Op;
      }
    } as OverrideFn;
  }
  return out as Variant['overrides'];
}

type FieldKind = 'loc' | 'int' | 'function' | 'boolean';

/** Each op's fields a replacement must fill in, by kind (src/machine/ops.ts). */
const OP_FIELDS: Record<Op['k'], Record<string, FieldKind>> = {
  ld: { loc: 'loc' },
  st: { loc: 'loc', val: 'int' },
  mb: {},
  nop: {},
  rmw: { loc: 'loc', f: 'function' },
  await: { loc: 'loc', pred: 'function' },
  irq: { enable: 'boolean' },
  raise: { cpu: 'loc', vector: 'loc' },
  exec: { loc: 'loc' },
  cmo: { loc: 'loc' },
  serialize: {},
  cr3: { mm: 'loc', asid: 'loc', flush: 'boolean' },
  invlpg: { vpn: 'loc' },
};

/** What is wrong with a value yielded as an op, or null if it is a well-formed op. */
function opProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null) return `${describe(v)}, which is not an op`;
  const op = v as Record<string, unknown>;
  const fields = OP_FIELDS[op.k as Op['k']];
  if (typeof op.k !== 'string' || !Object.hasOwn(OP_FIELDS, op.k) || !fields) return `an op of unknown kind '${String(op.k)}'`;
  const site = op.site as { fn?: unknown } | undefined;
  if (typeof site !== 'object' || site === null || typeof site.fn !== 'string') return `a '${op.k}' op without a site { fn }`;
  for (const [name, kind] of Object.entries(fields)) {
    const x = op[name];
    const ok = kind === 'loc' ? Number.isSafeInteger(x) && (x as number) >= 0
      : kind === 'int' ? Number.isSafeInteger(x)
        : kind === 'function' ? typeof x === 'function' : typeof x === 'boolean';
    if (!ok) return `a '${op.k}' op whose ${name} is ${describe(x)}`;
  }
  return null;
}

/** The engine's own signals and coded errors go through unchanged. */
function passThrough(e: unknown): unknown {
  return e instanceof AssertionFailed || e instanceof BoundExceeded || e instanceof SmpError ? e : undefined;
}

function isGenerator(x: unknown): x is Generator<Op, unknown, number> {
  return typeof x === 'object' && x !== null && typeof (x as Generator).next === 'function' && typeof (x as Generator)[Symbol.iterator] === 'function';
}

function describe(e: unknown): string {
  const s = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

/**
 * Runs `f` (a search, a replay) on `variant`. With a user's variant module, an error
 * that is not the engine's own is the module's doing as far as the user can tell
 * (a replacement that yields something the machine cannot run): SMP204, not an
 * internal error. Built-in variants are left alone: their failures are bugs.
 */
export function runWithVariant<T>(variant: Variant, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (!variant.file || passThrough(e)) throw e;
    throw new SmpError('SMP204', `variant module '${variant.file}': the model failed while running its replacements: ${describe(e)}`);
  }
}
