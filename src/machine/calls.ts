// The kernel functions an op was yielded from, for traces. Off during a search:
// only a recorded replay (a trace) turns it on, so the engine pays nothing for it.
// Kernel code (src/kernel/dispatch.ts) pushes a function's name around each
// resumption of its generator; the innermost function that yields an op notes the
// whole stack, outermost first, in `yielded`, which the machine reads back.

export const kernelCalls = {
  /** Set by a recorded replay; kernel functions called while it is set are tracked. */
  on: false,
  /** The functions being resumed right now, outermost first. */
  stack: [] as string[],
  /** The stack of the op just yielded, or null when no kernel function yielded it. */
  yielded: null as readonly string[] | null,
};

/** Runs `f` with kernel calls tracked (restored afterwards, also on a throw). */
export function withKernelCalls<T>(f: () => T): T {
  const was = kernelCalls.on;
  kernelCalls.on = true;
  kernelCalls.stack.length = 0;
  try {
    return f();
  } finally {
    kernelCalls.on = was;
    kernelCalls.stack.length = 0;
    kernelCalls.yielded = null;
  }
}

/**
 * Every call of a modelled kernel function, by kernel name, for `smpcheck sim`
 * (src/sim/), which charges the function's cost to the CPU taking the step the call
 * is made in. Null (the default) during a check: the engine pays one test per call.
 */
export const kernelEvents = {
  sink: null as ((name: string) => void) | null,
};
