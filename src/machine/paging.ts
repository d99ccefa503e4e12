// Address translation on the machine (x86-64 paging, as far as TLB shootdown needs
// it): user pages reached through page-table entries in memory, a TLB per CPU
// tagged by PCID (the kernel's ASID slot), and the CPU's CR3 (which address
// space it walks, with which PCID).
//
// What is modelled:
// - Two levels: an mm's PMD entry points to its page-table page (or is none), whose
//   PTEs map the user pages. Both are machine locations like any other: kernel code
//   writes them through its store buffer, and the page walker reads memory, never
//   its own CPU's store buffer. Page-table pages are freed and reused.
// - A paging-structure cache per (CPU, PCID): the page-table page the last walk
//   found through the PMD. A walk goes through it when it holds one, even after the
//   PMD changed and the table was freed (property S2 names such a walk); it is
//   dropped by a CR3 write with the flush, by INVLPG, or at any moment (an eviction,
//   a step of its own) when it no longer matches the PMD.
// - A TLB entry per (CPU, PCID, page): the frame and write permission of the PTE
//   the walk read. An access uses the entry when there is one (even if the PTE has
//   changed since: a stale translation) and walks otherwise; a walk that finds the
//   PTE not present is a page fault. x86 does not cache not-present entries.
// - Walks at any moment: each CPU has one walker process per page that may, at any
//   step, refill (or evict) the entry of the loaded PCID from memory, speculatively,
//   in kernel mode and while the CPU is lazy too (CR3 keeps the user's tables).
// - CR3 writes (with or without the NOFLUSH bit) and INVLPG, both serialising; a
//   CR3 write with the flush drops every entry of its PCID.
// - A page fault drops the faulting page's entry (Intel SDM vol. 3A, 4.10.4.1), so
//   the retried access walks anew.
// - The accessed and dirty bits (Intel SDM vol. 3A, 4.8): a walk that fills a TLB
//   entry from a PTE whose accessed bit is clear sets it in memory, by a locked
//   update of the PTE it read (speculative walks too: they fill the TLB); the
//   entry holds the PTE as updated. A write through a translation whose dirty bit
//   is clear sets the PTE's dirty (and accessed) bit in memory first, with a
//   locked update that walks again: if the PTE in memory no longer is the one the
//   entry holds (cleared, write-protected, another frame), the write faults
//   instead (no dirty bit is set in a PTE that was changed: what
//   ptep_clear_flush() and try_to_unmap() rely on). A TLB entry keeps the dirty
//   bit it was filled with (or set): a write through a dirty entry does not touch
//   the PTE, even if the kernel has cleared the bit since; a read through an entry
//   never sets the accessed bit again. The kernel's own PTEs are made young (x86's
//   vm_page_prot carries _PAGE_ACCESSED), so the walker's update happens only on a
//   PTE the scenario starts old (`clean a;`). Neither bit changes the
//   translation: a walker does not refill an entry for them.
// Left out: the levels above the PMD (one PMD entry per mm covers every page), large pages, global pages and PTI's user PCIDs,
// INVPCID (without PTI and global pages no modelled path issues it), the accessed
// and dirty bits of the PMD entry, and TLB capacity (an entry is evicted only by a
// refill from a changed PTE).

/** A PTE's bits (arch/x86/include/asm/pgtable_types.h): present, writable, accessed, dirty, and the frame above them. */
export const _PAGE_PRESENT = 1;
export const _PAGE_RW = 2;
export const _PAGE_ACCESSED = 0x20;
export const _PAGE_DIRTY = 0x40;
/**
 * A swap entry (not present; the kernel's own encoding): the page's data is in
 * its swap slot. Bit 1 (_PAGE_RW's place) is never set in one.
 */
export const _PAGE_SWP = 0x10;
export const PTE_PFN_SHIFT = 8;

/**
 * mk_pte() with the VMA's protection: young (x86's protection_map carries
 * _PAGE_ACCESSED) unless `young` is false (a page the scenario starts old); dirty
 * only if writable.
 */
export const mk_pte = (pfn: number, rw = true, dirty = rw, young = true): number =>
  (pfn << PTE_PFN_SHIFT) | _PAGE_PRESENT | (rw ? _PAGE_RW : 0) | (young ? _PAGE_ACCESSED : 0) | (rw && dirty ? _PAGE_DIRTY : 0);
export const pte_present = (pte: number): boolean => (pte & _PAGE_PRESENT) !== 0;
export const pte_write = (pte: number): boolean => (pte & _PAGE_RW) !== 0;
export const pte_young = (pte: number): boolean => (pte & _PAGE_ACCESSED) !== 0;
export const pte_dirty = (pte: number): boolean => (pte & _PAGE_DIRTY) !== 0;
export const pte_pfn = (pte: number): number => pte >>> PTE_PFN_SHIFT;
/** A swap PTE for the page's slot (one slot per page: the slot is the page). */
export const swp_entry_to_pte = (vpn: number): number => (vpn << PTE_PFN_SHIFT) | _PAGE_SWP;
export const is_swap_pte = (pte: number): boolean => !pte_present(pte) && (pte & _PAGE_SWP) !== 0;
/** The same translation but for the accessed and dirty bits (which the hardware sets)? */
export const pte_same_but_ad = (a: number, b: number): boolean => (a | _PAGE_ACCESSED | _PAGE_DIRTY) === (b | _PAGE_ACCESSED | _PAGE_DIRTY);

/** TLB_NR_DYN_ASIDS (arch/x86/include/asm/tlbflush.h): the PCIDs a CPU cycles through. */
export const TLB_NR_DYN_ASIDS = 6;

/** What the machine needs to translate user accesses. */
export interface Paging {
  /** Per location: the user page it is (a virtual location), or -1 for an ordinary location. */
  readonly vpnOf: readonly number[];
  readonly nPages: number;
  /** pmdLoc[mm]: the PMD entry of address space mm (-1 for init_mm, which maps no user page): 0 none, t + 1 table t. */
  readonly pmdLoc: readonly number[];
  /** tablePte[t][vpn]: the PTE of page vpn in page-table page t. */
  readonly tablePte: readonly (readonly number[])[];
  /** tableOwner[t]: a check location: the mm that table t belongs to (0: free), written by the kernel model. */
  readonly tableOwner: readonly number[];
  /** frameLoc[pfn]: the location that holds the data of frame pfn. */
  readonly frameLoc: readonly number[];
  /** The address space each CPU's CR3 holds at the start, with PCID 0. */
  readonly cr3Mm: readonly number[];
}

/**
 * A page fault: delivered into the CPU's code (the kernel model handles it and retries
 * the access). Not an Error: a search throws it thousands of times, and an Error would
 * capture a stack trace each time that nothing reads.
 */
export class PageFault {
  readonly name = 'PageFault';
  constructor(readonly vpn: number, readonly write: boolean) {}
  get message(): string {
    return `page fault on page ${this.vpn}`;
  }
}
