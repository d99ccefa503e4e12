// Named kernel variants: the modelled version and changes to it. A variant is
// the default kernel (v6.18) with named barriers removed; each mutant differs
// from v6.18 by exactly one removal, so a counterexample it produces is due to
// that barrier alone.

export interface Variant {
  name: string;
  /** The kernel version the variant starts from. */
  base: string;
  /** One line on what the variant changes. */
  description: string;
  /** Barrier labels (see the smp_mb() calls in src/kernel/) and steps ('membarrier.ipi') this variant removes. */
  removed: ReadonlySet<string>;
}

export const DEFAULT_KERNEL = 'v6.18';

const VARIANTS: readonly Variant[] = [
  {
    name: 'v6.18',
    base: 'v6.18',
    description: 'the modelled kernel: kernel/sched/membarrier.c and kernel/smp.c as of v6.18',
    removed: new Set(),
  },
  {
    name: 'no-mb-a',
    base: 'v6.18',
    description: "mutant: membarrier's first smp_mb() (a, 'system call entry is not a mb') removed",
    removed: new Set(['membarrier.a']),
  },
  {
    name: 'no-mb-c',
    base: 'v6.18',
    description: "mutant: membarrier's last smp_mb() (c, 'exit from system call is not a mb') removed",
    removed: new Set(['membarrier.c']),
  },
  {
    name: 'no-ipi',
    base: 'v6.18',
    description: 'mutant: membarrier() sends no IPI (as if every target had been wrongly left out of the mask)',
    removed: new Set(['membarrier.ipi']),
  },
  {
    name: 'no-mmdrop-mb',
    base: 'v6.18',
    description: "mutant: finish_task_switch()'s mmdrop_lazy_tlb_sched() without its full barrier (a plain decrement)",
    removed: new Set(['mmdrop']),
  },
  {
    name: 'no-kthread-use-mm-mb',
    base: 'v6.18',
    description: "mutant: kthread_use_mm()'s mmdrop_lazy_tlb() without its full barrier (g)",
    removed: new Set(['kthread_use_mm.g']),
  },
  {
    name: 'no-ipi-mb',
    base: 'v6.18',
    description: "mutant: the smp_mb() of the IPI handler ipi_mb() removed ('IPIs should be serializing but paranoid')",
    removed: new Set(['ipi_mb']),
  },
];

export function variants(): readonly Variant[] {
  return VARIANTS;
}

export function findVariant(name: string): Variant | undefined {
  return VARIANTS.find((v) => v.name === name);
}
