// One dispatch for every modelled kernel function. Each function of src/kernel/ that
// models a kernel function is defined through kfunc(), under its kernel name, so
// that a variant (a user's module, examples/variants/) can replace any of them by
// that name: a call of `membarrier_switch_mm(k, ...)` runs the variant's
// replacement when the execution's kernel has one, else the modelled function.
//
// A replacement may call the function it replaces: while a replacement of X takes
// its steps, a call of X runs the modelled X (not the replacement again). The
// "while" is per step: between two steps of the replacement, other CPUs calling X
// get the replacement, as they should. Kernel code is generators driven by the
// machine one op at a time, so the dispatch marks X as being replaced around each
// resumption of the replacement's generator, which is when its calls are made.
// (A call of X made by another function that the replacement calls, during the
// same step, also runs the modelled X.)

import type { Op } from '../machine/ops.js';
import { kernelCalls, kernelEvents } from '../machine/calls.js';
import type { Kernel } from './kernel.js';

/** A modelled kernel function: the kernel first, then the function's own arguments. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type KernelFunction = (k: Kernel, ...args: any[]) => Generator<Op, any, number>;

/** The modelled functions by kernel name (the originals, whatever a variant replaces). */
const REGISTRY = new Map<string, KernelFunction>();

/** Names whose replacement is taking a step right now (depth, for a replacement that nests). */
const replacing = new Map<string, number>();

/**
 * Defines the modelled kernel function `impl` under its own name (the generator
 * function's name, which is the kernel's identifier) and returns the dispatching
 * function that callers use.
 */
export function kfunc<F extends KernelFunction>(impl: F): F {
  const name = impl.name;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`internal: kernel function without a kernel name: '${name}'`);
  if (REGISTRY.has(name)) throw new Error(`internal: kernel function ${name} defined twice`);
  REGISTRY.set(name, impl);
  const dispatch = (k: Kernel, ...args: unknown[]): Generator<Op, unknown, number> => {
    if (kernelEvents.sink !== null) kernelEvents.sink(name);
    const replacement = k.variant.overrides?.[name];
    const g = replacement === undefined || (replacing.get(name) ?? 0) > 0 ? impl(k, ...args) : replaced(name, replacement(k, ...args));
    return kernelCalls.on ? called(name, g) : g;
  };
  Object.defineProperty(dispatch, 'name', { value: name });
  return dispatch as F;
}

/** Resume a replacement's generator with its name marked as being replaced. */
function resume<T>(name: string, f: () => T): T {
  replacing.set(name, (replacing.get(name) ?? 0) + 1);
  try {
    return f();
  } finally {
    const d = replacing.get(name)! - 1;
    if (d === 0) replacing.delete(name);
    else replacing.set(name, d);
  }
}

function* replaced(name: string, g: Generator<Op, unknown, number>): Generator<Op, unknown, number> {
  return yield* around(g, (f) => resume(name, f));
}

/**
 * Delegates to g, running each of its resumptions through `run` (an exception thrown
 * into the running code, an rseq abort, goes on into g too); `beforeYield` sees
 * each op before it is passed up.
 */
function* around(
  g: Generator<Op, unknown, number>, run: (f: () => IteratorResult<Op, unknown>) => IteratorResult<Op, unknown>, beforeYield?: () => void,
): Generator<Op, unknown, number> {
  let r = run(() => g.next());
  while (!r.done) {
    beforeYield?.();
    let v: number;
    try {
      v = yield r.value;
    } catch (e) {
      r = run(() => g.throw(e));
      continue;
    }
    r = run(() => g.next(v));
  }
  return r.value;
}

/** Runs one resumption of kernel function `name` with its name on the call stack. */
function inCall<T>(name: string, f: () => T): T {
  kernelCalls.stack.push(name);
  try {
    return f();
  } finally {
    kernelCalls.stack.pop();
  }
}

/** A kernel function's generator, tracked for traces: the innermost function notes the stack of each op it yields. */
function* called(name: string, g: Generator<Op, unknown, number>): Generator<Op, unknown, number> {
  return yield* around(g, (f) => inCall(name, f), () => {
    if (kernelCalls.yielded === null) kernelCalls.yielded = [...kernelCalls.stack, name];
  });
}

/** The names of every modelled kernel function a variant may replace, sorted. */
export function kernelFunctionNames(): string[] {
  return [...REGISTRY.keys()].sort();
}

/** Is `name` a modelled kernel function? */
export function isKernelFunction(name: string): boolean {
  return REGISTRY.has(name);
}
