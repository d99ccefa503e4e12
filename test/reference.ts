// A reference interpreter for small straight-line litmus programs, written from
// the textbook definitions of SC and x86-TSO; it shares no code with the engine.

import fc from 'fast-check';
import type { ModelName } from '../src/machine/machine.js';

export type Instr =
  | { k: 'st'; loc: number; val: number }
  | { k: 'ld'; loc: number }
  | { k: 'mb' }
  | { k: 'wmb' }
  | { k: 'xchg'; loc: number; val: number }
  | { k: 'cmpxchg'; loc: number; old: number; val: number }
  | { k: 'inc'; loc: number };

export const LOCS = ['x', 'y', 'z'];

export const instr: fc.Arbitrary<Instr> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('st' as const), loc: fc.integer({ min: 0, max: 2 }), val: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('ld' as const), loc: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'mb' as const }) },
  { weight: 1, arbitrary: fc.constant({ k: 'wmb' as const }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('xchg' as const), loc: fc.integer({ min: 0, max: 2 }), val: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cmpxchg' as const), loc: fc.integer({ min: 0, max: 2 }), old: fc.integer({ min: 0, max: 1 }), val: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('inc' as const), loc: fc.integer({ min: 0, max: 2 }) }) },
);

export const programArb = fc.array(fc.array(instr, { minLength: 1, maxLength: 4 }), { minLength: 2, maxLength: 3 });

function regsOf(t: Instr[]): number {
  return t.filter((i) => i.k === 'ld' || i.k === 'xchg' || i.k === 'cmpxchg').length;
}

export function render(threads: Instr[][]): string {
  const lines = ['C random', '', '{}', ''];
  threads.forEach((t, ti) => {
    lines.push(`P${ti}(int *x, int *y, int *z)`, '{');
    const n = regsOf(t);
    for (let r = 0; r < n; r++) lines.push(`\tint r${r};`);
    let r = 0;
    for (const i of t) {
      switch (i.k) {
        case 'st': lines.push(`\tWRITE_ONCE(*${LOCS[i.loc]}, ${i.val});`); break;
        case 'ld': lines.push(`\tr${r++} = READ_ONCE(*${LOCS[i.loc]});`); break;
        case 'mb': lines.push('\tsmp_mb();'); break;
        case 'wmb': lines.push('\tsmp_wmb();'); break;
        case 'xchg': lines.push(`\tr${r++} = xchg(${LOCS[i.loc]}, ${i.val});`); break;
        case 'cmpxchg': lines.push(`\tr${r++} = cmpxchg(${LOCS[i.loc]}, ${i.old}, ${i.val});`); break;
        case 'inc': lines.push(`\tatomic_inc(${LOCS[i.loc]});`); break;
      }
    }
    lines.push('}', '');
  });
  const obs = [...LOCS];
  threads.forEach((t, ti) => {
    for (let r = 0; r < regsOf(t); r++) obs.push(`${ti}:r${r}`);
  });
  lines.push(`locations [${obs.join('; ')};]`, 'exists (x=0)');
  return lines.join('\n');
}

/**
 * Reference semantics: breadth-first search over (pcs, registers, memory, buffers).
 * SC: loads and stores act on memory. TSO: stores enter a FIFO buffer, loads
 * forward from the newest own entry, a buffer's oldest entry may drain at any
 * time, mb and locked ops need an empty buffer.
 */
export function reference(threads: Instr[][], model: ModelName): Set<string> {
  interface S { pc: number[]; regs: number[][]; mem: number[]; buf: [number, number][][] }
  const tso = model === 'x86';
  const init: S = { pc: threads.map(() => 0), regs: threads.map(() => []), mem: [0, 0, 0], buf: threads.map(() => []) };
  const seen = new Set<string>();
  const finals = new Set<string>();
  const queue: S[] = [init];
  const key = (s: S): string => JSON.stringify(s);
  seen.add(key(init));
  const push = (s: S): void => {
    const k = key(s);
    if (!seen.has(k)) {
      seen.add(k);
      queue.push(s);
    }
  };
  const clone = (s: S): S => ({ pc: [...s.pc], regs: s.regs.map((r) => [...r]), mem: [...s.mem], buf: s.buf.map((b) => b.map((e) => [...e] as [number, number])) });
  while (queue.length > 0) {
    const s = queue.pop()!;
    let moved = false;
    threads.forEach((t, ti) => {
      if (tso && s.buf[ti]!.length > 0) {
        moved = true;
        const n = clone(s);
        const [loc, val] = n.buf[ti]!.shift()!;
        n.mem[loc] = val;
        push(n);
      }
      const i = t[s.pc[ti]!];
      if (!i) return;
      const empty = s.buf[ti]!.length === 0;
      const n = clone(s);
      n.pc[ti]!++;
      const read = (loc: number): number => {
        const b = n.buf[ti]!;
        for (let j = b.length - 1; j >= 0; j--) if (b[j]![0] === loc) return b[j]![1];
        return n.mem[loc]!;
      };
      switch (i.k) {
        case 'st':
          if (tso) n.buf[ti]!.push([i.loc, i.val]);
          else n.mem[i.loc] = i.val;
          break;
        case 'ld':
          n.regs[ti]!.push(read(i.loc));
          break;
        case 'wmb':
          break;
        case 'mb':
          if (!empty) return;
          break;
        case 'xchg':
          if (!empty) return;
          n.regs[ti]!.push(n.mem[i.loc]!);
          n.mem[i.loc] = i.val;
          break;
        case 'cmpxchg':
          if (!empty) return;
          n.regs[ti]!.push(n.mem[i.loc]!);
          if (n.mem[i.loc] === i.old) n.mem[i.loc] = i.val;
          break;
        case 'inc':
          if (!empty) return;
          n.mem[i.loc] = n.mem[i.loc]! + 1;
          break;
      }
      moved = true;
      push(n);
    });
    if (!moved) finals.add([...s.regs.flat(), ...s.mem].join(','));
  }
  return finals;
}


export type IrqInstr = Instr | { k: 'raise' } | { k: 'cli' } | { k: 'await'; loc: number; val: number };

/** Two threads of instructions, raises of handler h, masking and waits; the handler's instructions; the CPU h is raised on (renderIrq()). */
export const irqProgramArb = fc.record({
  threads: fc.array(
    fc.array(
      fc.oneof(
        instr,
        fc.constant({ k: 'raise' as const }),
        fc.constant({ k: 'cli' as const }),
        fc.record({ k: fc.constant('await' as const), loc: fc.integer({ min: 0, max: 2 }), val: fc.integer({ min: 0, max: 2 }) }),
      ),
      { minLength: 1, maxLength: 4 },
    ),
    { minLength: 2, maxLength: 2 },
  ),
  handler: fc.array(instr, { minLength: 1, maxLength: 2 }),
  target: fc.integer({ min: 0, max: 1 }),
});

/** A two-CPU program whose threads raise interrupt handler h on CPU target and mask interrupts. */
export function renderIrq(threads: IrqInstr[][], handler: Instr[], target: number): string {
  const lines = ['C random-irq', '', '{}', '', 'irq h(int *x, int *y, int *z)', '{', '\tint r0;', '\tint r1;', '\tint r2;'];
  let hr = 0;
  for (const i of handler) {
    if (i.k === 'st') lines.push(`\tWRITE_ONCE(*${LOCS[i.loc]}, ${i.val});`);
    else if (i.k === 'ld') lines.push(`\tr${hr++ % 3} = READ_ONCE(*${LOCS[i.loc]});`);
    else if (i.k === 'mb') lines.push('\tsmp_mb();');
    else lines.push(`\tatomic_inc(${LOCS[i.k === 'inc' || i.k === 'xchg' || i.k === 'cmpxchg' ? i.loc : 0]});`);
  }
  lines.push('}', '');
  threads.forEach((t, ti) => {
    lines.push(`P${ti}(int *x, int *y, int *z)`, '{', '\tint r0;', '\tint r1;', '\tint r2;', '\tint r3;');
    let r = 0;
    let off = false;
    for (const i of t) {
      if (i.k === 'raise') lines.push(`\traise_irq(${target}, h);`);
      else if (i.k === 'await') lines.push(`\tr${r++} = smp_cond_load_acquire(${LOCS[i.loc]}, VAL == ${i.val});`);
      else if (i.k === 'cli') {
        lines.push(off ? '\tlocal_irq_enable();' : '\tlocal_irq_disable();');
        off = !off;
      } else if (i.k === 'st') lines.push(`\tWRITE_ONCE(*${LOCS[i.loc]}, ${i.val});`);
      else if (i.k === 'ld') lines.push(`\tr${r++} = READ_ONCE(*${LOCS[i.loc]});`);
      else if (i.k === 'mb') lines.push('\tsmp_mb();');
      else if (i.k === 'wmb') lines.push('\tsmp_wmb();');
      else if (i.k === 'xchg') lines.push(`\tr${r++} = xchg(${LOCS[i.loc]}, ${i.val});`);
      else if (i.k === 'cmpxchg') lines.push(`\tr${r++} = cmpxchg(${LOCS[i.loc]}, ${i.old}, ${i.val});`);
      else lines.push(`\tatomic_inc(${LOCS[i.loc]});`);
    }
    if (off) lines.push('\tlocal_irq_enable();');
    lines.push('}', '');
  });
  lines.push('locations [x; y; z; 0:r0; 0:r1; 0:r2; 0:r3; 1:r0; 1:r1; 1:r2; 1:r3;]', 'exists (x=0)');
  return lines.join('\n');
}
