// Models: arch/x86/kernel/alternative.c __text_poke() (v6.18), as far as the TLB
// is concerned: kernel text is patched through a temporary mm (text_poke_mm) that
// maps the page writable at text_poke_mm_addr, loaded on this CPU alone with
// interrupts off. The address-space switches are the modelled part:
// use_temporary_mm() (which first leaves lazy TLB mode, abee7c494d8c) and
// unuse_temporary_mm() (src/kernel/arch/x86/mm/tlb.ts).
// Leaves out: text_mutex (the callers hold it; a scenario has one poking thread),
// the kernel text itself and the copy into it (no modelled CPU reads kernel
// text), the PTE of text_poke_mm_addr set before the switch and cleared after it,
// and the flush_tlb_mm_range(text_poke_mm, ...) that follows: it only bumps
// text_poke_mm's generation, since unuse_temporary_mm() took this CPU out of the
// mm's mask and no other CPU loads it.

import type { CpuCode } from '../../../../machine/ops.js';
import type { Kernel } from '../../../kernel.js';
import { kfunc } from '../../../dispatch.js';
import { text_poke_mm, unuse_temporary_mm, use_temporary_mm } from '../mm/tlb.js';

/**
 * Models: text_poke() -> __text_poke() (v6.18): local_irq_save(), switch to
 * text_poke_mm, patch, switch back, local_irq_restore().
 */
export const text_poke = kfunc(function* text_poke(k: Kernel, cpu: number): CpuCode {
  yield* k.local_irq_save();
  const prevMm = yield* use_temporary_mm(k, cpu, text_poke_mm(k));
  yield* k.note('__text_poke(): memcpy() to text_poke_mm_addr (the patched kernel text)');
  yield* unuse_temporary_mm(k, cpu, prevMm);
  yield* k.local_irq_restore();
});
