// TLB shootdown: user pages through page tables and TLBs on the machine, the page
// fault and madvise() of the kernel model, properties S1, S3 and S5, the accessed and
// dirty bits, the TLB variants and their regression pairs, and what a
// counterexample's trace shows.

// The engine is called directly: the kernel model and the graph engine are loaded at once (src/parts.ts).
import '../src/parts/all.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSource, observedLabel, parseExpectationKey } from '../src/check.js';
import { variants } from '../src/kernel/variants.js';
import { buildTrace, renderTraceText } from '../src/explore/trace.js';
import { parseScenario } from '../src/scenario/parser.js';
import { cli, ROOT } from './helpers.js';

const L = (...lines: string[]): string => `${lines.join('\n')}\n`;

test('one thread: madvise(MADV_DONTNEED) gives the page back zero-filled, a write after it copies the zero page', async () => {
  const src = L(
    'C zap', '{ a = 7; }', 'smpcheck { mmap a; }',
    'P0(int *a) {', '\tint r0; int r1; int r2; int r3; int r4;',
    '\tr0 = READ_ONCE(*a);', '\tr1 = madvise(a, MADV_DONTNEED);', '\tr2 = READ_ONCE(*a);',
    '\tWRITE_ONCE(*a, 5);', '\tr3 = READ_ONCE(*a);', '\tr4 = madvise(a, 3);', '}',
    'exists (0:r0=7 /\\ 0:r1=0 /\\ 0:r2=0 /\\ 0:r3=5 /\\ 0:r4=-22 /\\ a=5)',
  );
  for (const model of ['sc', 'x86'] as const) {
    const r = checkSource(src, 'zap.litmus', { model });
    assert.equal(r.result.complete, true);
    assert.equal(r.observation, 'Always', model);
    assert.deepEqual(r.result.assertions, []);
  }
});

test('user pages: what they cannot be used for is a coded error', async () => {
  const cases: [string, string, RegExp][] = [
    ['unknown location', L('C t', '{}', 'smpcheck { mmap b; }', 'P0(int *a) { WRITE_ONCE(*a, 1); }', 'exists (a=1)'), /SMP108.*'b' is not a shared location/],
    ['mapped twice', L('C t', '{}', 'smpcheck { mmap a a; }', 'P0(int *a) { WRITE_ONCE(*a, 1); }', 'exists (a=1)'), /SMP108.*mapped twice/],
    ['madvise of another location', L('C t', '{}', 'smpcheck { mmap a; }', 'P0(int *a, int *x) { int r0; r0 = madvise(x, MADV_DONTNEED); }', 'exists (0:r0=0)'), /SMP303.*not a user page/],
    ['a wait on a page', L('C t', '{}', 'smpcheck { mmap a; }', 'P0(int *a) { int r0; r0 = smp_cond_load_acquire(a, VAL == 0); }', 'exists (0:r0=0)'), /SMP103.*user page/],
    ['too many processes', L('C t', '{}', 'smpcheck { mmap a b c; }', ...[0, 1, 2, 3, 4].map((i) => `P${i}(int *a, int *b, int *c) { WRITE_ONCE(*a, ${i}); }`), 'exists (a=1)'), /SMP109.*processes/],
    ['too many pages', L('C t', '{}', 'smpcheck { mmap a b c d e; }', 'P0(int *a, int *b, int *c, int *d, int *e) { WRITE_ONCE(*a, 1); }', 'exists (a=1)'), /SMP108.*more than 4 user pages/],
  ];
  for (const [what, src, msg] of cases) {
    assert.throws(() => checkSource(src, 't.litmus', { model: 'x86' }), (e: Error) => msg.test(`${(e as Error & { code?: string }).code} ${e.message}`), what);
  }
});

test('property S1 fails only where a flush returns before a CPU stops using the old translation', async () => {
  const file = join(ROOT, 'scenarios/tlb/madvise-stale-read.litmus');
  const sc = parseScenario(readFileSync(file, 'utf8'), file);
  const ok = checkSource(readFileSync(file, 'utf8'), file, { model: 'x86' });
  assert.deepEqual(ok.result.assertions, []);
  const early = checkSource(readFileSync(file, 'utf8'), file, { model: 'x86', variant: 'async-flush' });
  assert.equal(early.result.complete, true);
  assert.ok(early.result.assertions.some((a) => a.name.startsWith('S1: CPU1 accessed user memory through a TLB entry older than a completed flush_tlb_mm_range()')), JSON.stringify(early.result.assertions));
  // The stale read is visible in the values too: P1 sees the flush done and reads the old data.
  assert.ok(early.result.positive > 0);
  assert.equal(sc.expectations.length > 0, true);
});

test('every TLB variant has its regression pair in scenarios/tlb, and each breaks S1 where its header says so', async () => {
  const dir = join(ROOT, 'scenarios/tlb');
  const lines = new Map<string, string[]>();
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.litmus'))) {
    const sc = parseScenario(readFileSync(join(dir, f), 'utf8'), join(dir, f));
    for (const e of sc.expectations) {
      const k = parseExpectationKey(e.key, sc.file);
      assert.ok(typeof k !== 'string');
      if (k.variant) lines.set(k.variant, [...(lines.get(k.variant) ?? []), `${f}: ${e.result}`]);
    }
  }
  const tlbVariants = ['pre-71b3c126e611', 'pre-706a1ea65e6f', 'pre-209954cbc7d0', 'pre-83b0177a6c48', 'pre-4ce94eabac16', 'async-flush', 'early-ack', 'no-switching-ipi', 'no-unlazy-mb', 'no-lazy-freed-ipi', 'flush-info-in-csd', 'async-flush-inline', 'no-flush-before-pageout', 'pre-abee7c494d8c',
    'no-fork-flush', 'no-wp-copy-flush', 'pre-3ea277194daa', 'no-dirty-check', 'clear-young-flush', 'no-unmap-flush'];
  for (const name of tlbVariants) {
    assert.ok(variants().some((v) => v.name === name), `${name} is a variant`);
    assert.ok(lines.has(name), `${name} has a line in scenarios/tlb`);
  }
  // The buggy history and designs fail S1 somewhere; the fixed ones hold everywhere.
  for (const name of ['pre-83b0177a6c48', 'pre-71b3c126e611', 'pre-706a1ea65e6f', 'async-flush', 'no-switching-ipi', 'no-unlazy-mb', 'no-lazy-freed-ipi']) {
    assert.ok(lines.get(name)!.some((x) => x.endsWith('Assertion')), name);
  }
  for (const name of ['pre-209954cbc7d0', 'pre-4ce94eabac16', 'flush-info-in-csd']) assert.ok(lines.get(name)!.every((x) => x.endsWith('Never')), name);
  // Waiting for the early acknowledgment (early-ack) holds where only user pages change, and fails where page tables are freed (the 2019 RFC kept those flushes synchronous).
  for (const x of lines.get('early-ack')!) assert.ok(x.endsWith(x.startsWith('munmap-lazy') ? 'Assertion' : 'Never'), x);
});

test('the CVE-2025-40174 counterexample reads as the bug: LOADED_MM_SWITCHING unordered, no IPI, NOFLUSH, a stale read', async () => {
  const r = await cli(['check', join(ROOT, 'scenarios/tlb/switch-mm-stale-asid.litmus'), '--variant', 'pre-83b0177a6c48', '--model', 'x86', '--show-trace', '--no-time']);
  assert.equal(r.code, 0, r.err);
  const trace = r.out.slice(r.out.indexOf('Trace'));
  const at = (re: RegExp): number => {
    const i = trace.search(re);
    assert.ok(i >= 0, `${re} in the trace`);
    return i;
  };
  const switching = at(/this_cpu_write\(cpu_tlbstate\.loaded_mm, LOADED_MM_SW/);
  const skipped = at(/should_flush_tlb\(1\): runs another mm, skipped/);
  const noflush = at(/CR3 = mm1 PCID 0 \(NOFLUSH\)/);
  const stale = at(/READ_ONCE\(a\) = 1 \[TLB hit: frame 0 \(stale: the PTE has changed\)\]/);
  assert.ok(switching < skipped && skipped < noflush && noflush < stale);
  assert.match(trace, /!! WARN_ON: (S1: CPU1 accessed user memory|UAF: CPU1 reached page frame 0)/);
  // On v6.18 the same scenario holds.
  const fixed = checkSource(readFileSync(join(ROOT, 'scenarios/tlb/switch-mm-stale-asid.litmus'), 'utf8'), join(ROOT, 'scenarios/tlb/switch-mm-stale-asid.litmus'), { model: 'x86' });
  assert.equal(observedLabel(fixed), 'Never');
});

test('munmap() of the last page frees the page table: a lazy CPU still gets the IPI, or walks a freed table (S2)', async () => {
  const file = join(ROOT, 'scenarios/tlb/munmap-lazy.litmus');
  const src = readFileSync(file, 'utf8');
  const ok = checkSource(src, file, { model: 'x86' });
  assert.equal(ok.observation, 'Never');
  assert.deepEqual(ok.result.assertions, []);
  const skip = checkSource(src, file, { model: 'x86', variant: 'no-lazy-freed-ipi' });
  assert.ok(skip.result.assertions.some((a) => a.name.startsWith('S2: CPU1 walked page-table page 0')), JSON.stringify(skip.result.assertions));
  // After munmap() the page has no VMA: a thread that touches it ends there (SIGSEGV).
  const segv = L('C segv', '{ a = 1; }', 'smpcheck { mmap a; }', 'P0(int *a) {', '\tint r0; int r1; int r2;', '\tr0 = munmap(a);', '\tr1 = 5;', '\tr2 = READ_ONCE(*a);', '\tr1 = 7;', '}', 'exists (0:r0=0 /\\ 0:r1=5 /\\ 0:r2=0)');
  const r = checkSource(segv, 'segv.litmus', { model: 'x86' });
  assert.equal(r.observation, 'Always');
});

test('mprotect(): a write after PROT_READ is SIGSEGV, PROT_READ | PROT_WRITE gives write back; other protections are refused', async () => {
  const src = L(
    'C prot', '{ a = 3; }', 'smpcheck { mmap a; }',
    'P0(int *a) {', '\tint r0; int r1; int r2; int r3;',
    '\tr0 = mprotect(a, PROT_READ);', '\tr1 = READ_ONCE(*a);', '\tr2 = mprotect(a, PROT_READ | PROT_WRITE);',
    '\tWRITE_ONCE(*a, 4);', '\tr3 = mprotect(a, PROT_READ);', '\tWRITE_ONCE(*a, 5);', '}',
    'exists (0:r0=0 /\\ 0:r1=3 /\\ 0:r2=0 /\\ 0:r3=0 /\\ a=4)',
  );
  for (const model of ['sc', 'x86'] as const) {
    const r = checkSource(src, 'prot.litmus', { model });
    assert.equal(r.result.complete, true);
    assert.equal(r.observation, 'Always', model);
    assert.deepEqual(r.result.assertions, []);
  }
  const bad = src.replace('r0 = mprotect(a, PROT_READ);', 'r0 = mprotect(a, 0);');
  assert.throws(() => checkSource(bad, 'prot.litmus', { model: 'x86' }), /not modelled: PROT_READ or PROT_READ \| PROT_WRITE/);
});

test('reclaim(): kswapd writes the page to swap and frees the frame; the next access reads it back, dirty bit and all', async () => {
  // P1 reclaims after P0's write (P0 waits for nothing: the two orders give the same data).
  const src = L(
    'C swap', '{ a = 0; }', 'smpcheck { mmap a; kthread P1; }',
    'P0(int *a) {', '\tint r0;', '\tWRITE_ONCE(*a, 6);', '\tr0 = READ_ONCE(*a);', '}',
    'P1(int *a) {', '\tint r0;', '\tr0 = reclaim(a);', '}',
    'exists (0:r0=6 /\\ a=6)',
  );
  for (const model of ['sc', 'x86'] as const) {
    const r = checkSource(src, 'swap.litmus', { model });
    assert.equal(r.result.complete, true);
    assert.equal(r.observation, 'Always', model);
    assert.deepEqual(r.result.assertions, []);
  }
  // reclaim() is kswapd's, not a system call of a user thread.
  const user = src.replace(' kthread P1;', '');
  assert.throws(() => checkSource(user, 'swap.litmus', { model: 'x86' }), /SMP109|reclaim\(\) is for kernel threads/);
});

test('a write through a clean writable entry sets the dirty bit by walking again, and faults if the PTE changed meanwhile', async () => {
  // After a swap-in by a read, the PTE is writable and clean: the write sets the dirty bit.
  const src = L(
    'C dirty', '{ a = 0; }', 'smpcheck { mmap a; kthread P1; }',
    'P0(int *a, int *go) {', '\tint r0; int r1;', '\tr0 = READ_ONCE(*go);', '\tr1 = READ_ONCE(*a);', '\tWRITE_ONCE(*a, 2);', '}',
    'P1(int *a, int *go) {', '\tint r0;', '\tr0 = reclaim(a);', '\tWRITE_ONCE(*go, 1);', '}',
    'exists (0:r0=1 /\\ a=2)',
  );
  const dir = mkdtempSync(join(tmpdir(), 'smpcheck-dirty-'));
  const file = join(dir, 'dirty.litmus');
  writeFileSync(file, src);
  const traceFile = join(dir, 'dirty.json');
  const r = await cli(['check', file, '--model', 'x86', '--trace', traceFile, '--no-time']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Observation dirty Sometimes/);
  assert.match(readFileSync(traceFile, 'utf8'), /"WRITE_ONCE[^}]*sets the dirty bit in the PTE/);
  // The data is never lost: a is 2 in every final state.
  const states = r.out.slice(r.out.indexOf('States'), r.out.indexOf('Witnesses'));
  assert.doesNotMatch(states, /a=0;/);
  // And the dirty bit is set by the access: the same write with the PTE changed under it faults and retries.
  const changed = checkSource(src, file, { model: 'x86' });
  assert.deepEqual(changed.result.assertions, []);
});

test('mremap(): the page moves with its data; an unmapped page has no VMA at the start; a use after free through the TLB is an assertion', async () => {
  const src = L(
    'C move', '{ a = 5; b = 0; }', 'smpcheck { mmap a b; unmapped b; }',
    'P0(int *a, int *b) {', '\tint r0; int r1;', '\tr0 = mremap(a, b);', '\tr1 = READ_ONCE(*b);', '}',
    'exists (0:r0=0 /\\ 0:r1=5 /\\ a=0 /\\ b=5)',
  );
  for (const model of ['sc', 'x86'] as const) {
    const r = checkSource(src, 'move.litmus', { model });
    assert.equal(r.observation, 'Always', model);
  }
  // A nonzero initial value for an unmapped page, or an unmapped location that is not a page, is refused.
  assert.throws(() => checkSource(src.replace('b = 0;', 'b = 1;'), 'move.litmus', { model: 'x86' }), /initial value must be 0/);
  assert.throws(() => checkSource(src.replace('mmap a b; unmapped b;', 'mmap a; unmapped b;'), 'move.litmus', { model: 'x86' }), /is unmapped but not a user page/);
  // Reading a page that is not mapped is SIGSEGV: the thread ends before r1 is set.
  const segv = src.replace('\tr0 = mremap(a, b);\n', '').replace('exists (0:r0=0 /\\ 0:r1=5 /\\ a=0 /\\ b=5)', 'exists (0:r1=0)');
  assert.equal(checkSource(segv, 'move.litmus', { model: 'x86' }).observation, 'Always');
  // On v6.18 the mremap scenario of the library has no use after free.
  const file = join(ROOT, 'scenarios/tlb/mremap-stale-old.litmus');
  const ok = checkSource(readFileSync(file, 'utf8'), file, { model: 'x86' });
  assert.equal(ok.result.complete, true);
  assert.deepEqual(ok.result.assertions, []);
});

test('text_poke() in lazy TLB mode: v6.18 leaves the borrowed mm first; before abee7c494d8c the kernel thread keeps it, not lazy, and gets its flush IPIs', async () => {
  const file = join(ROOT, 'scenarios/tlb/text-poke-lazy.litmus');
  const src = readFileSync(file, 'utf8');
  // v6.18: once P2 has poked, CPU1 holds init_mm and the madvise() flush skips it.
  const fixed = checkSource(src, file, { model: 'x86' });
  assert.equal(fixed.result.complete, true);
  assert.equal(observedLabel(fixed), 'Never');
  // leave_mm() ran from lazy mode only: its WARN_ON(!is_lazy) never fires, nor does any property.
  assert.deepEqual(fixed.result.assertions, []);
  // Before the fix the IPI reaches the kernel thread; it is a lost lazy state, not a broken property.
  const buggy = checkSource(src, file, { model: 'x86', variant: 'pre-abee7c494d8c' });
  assert.equal(buggy.result.complete, true);
  assert.equal(observedLabel(buggy), 'Sometimes');
  assert.deepEqual(buggy.result.assertions, []);
  // The trace reads as the bug: prev_mm taken while lazy, the temporary mm (mm2), an
  // ordinary switch back to mm1, then the flusher finds CPU1 on mm1 and not lazy.
  const r = await cli(['check', file, '--variant', 'pre-abee7c494d8c', '--model', 'x86', '--show-trace', '--no-time']);
  assert.equal(r.code, 0, r.err);
  const trace = r.out.slice(r.out.indexOf('Trace'));
  const at = (re: RegExp): number => {
    const i = trace.search(re);
    assert.ok(i >= 0, `${re} in the trace`);
    return i;
  };
  const prev = at(/use_temporary_mm\(\): prev_mm = loaded_mm = mm1 \(lazy\)/);
  const temp = at(/CR3 = mm2 PCID \d/);
  const back = at(/CR3 = mm1 PCID \d/);
  const seen = at(/per_cpu\(cpu_tlbstate_shared\.is_lazy, 1\) \[cpu1: cpu_tlbstate_shared\.is_lazy\] = 0/);
  const flushed = at(/irq\| flush_tlb_one_user: INVLPG page 0/);
  assert.ok(prev < temp && temp < back && back < seen && seen < flushed);
  assert.doesNotMatch(trace.slice(0, temp), /leave_mm|CR3 = mm0/);
  // text_poke() is a kernel thread's: a user thread calling it is a coded error.
  const user = src.replace('\tkthread P2;\n', '');
  assert.throws(() => checkSource(user, file, { model: 'x86' }), (e: Error) => /^SMP109 text_poke\(\) is for kernel threads/.test(`${(e as Error & { code?: string }).code} ${e.message}`));
  // Nor is it for an interrupt handler (__text_poke() takes text_mutex).
  const irq = src.replace('P0(int *a, int *poked)', 'irq poke(int *a) { text_poke(); }\n\nP0(int *a, int *poked)');
  assert.throws(() => checkSource(irq, file, { model: 'x86' }), (e: Error) => /^SMP103 text_poke\(\) in an interrupt handler/.test(`${(e as Error & { code?: string }).code} ${e.message}`));
});

test('early acknowledgment when page tables are freed breaks S2: the lazy CPU acknowledges, the table is freed, its cached walk reaches it', async () => {
  const file = join(ROOT, 'scenarios/tlb/munmap-lazy.litmus');
  const r = checkSource(readFileSync(file, 'utf8'), file, { model: 'x86', variant: 'async-flush' });
  assert.equal(r.result.complete, true);
  assert.ok(r.result.assertions.some((a) => a.name.startsWith('S2: CPU1 walked page-table page 0')), JSON.stringify(r.result.assertions));
});

test('fork(): the child maps the parent\'s page read-only, a write in either copies it, and each keeps its own data', async () => {
  // P0 forks P2 and then writes; the child reads the value of before the fork, the parent its own write.
  const src = L(
    'C cow', '{ a = 3; }', 'smpcheck { mmap a; cpu 0 runs P0 P1; }',
    'P0(int *a, int *go) {', '\tint r0;', '\tfork(P1);', '\tWRITE_ONCE(*a, 4);', '\tr0 = READ_ONCE(*a);', '\tWRITE_ONCE(*go, 1);', '}',
    'P1(int *a, int *go) {', '\tint r0; int r1;', '\tr0 = READ_ONCE(*go);', '\tr1 = READ_ONCE(*a);', '\tWRITE_ONCE(*a, 5);', '}',
    'exists (0:r0=4 /\\ 1:r0=1 /\\ 1:r1=3)',
  );
  for (const model of ['sc', 'x86'] as const) {
    const r = checkSource(src, 'cow.litmus', { model });
    assert.equal(r.result.complete, true);
    // The child runs after P0 on CPU0, so it sees go = 1 and its own copy of a: 3, whatever P0 wrote.
    assert.equal(r.observation, 'Always', model);
    assert.deepEqual(r.result.assertions, []);
  }
});

test('fork() and copy-on-write: the flushes of dup_mmap() and wp_page_copy() each have a scenario their mutant breaks', async () => {
  const fork = join(ROOT, 'scenarios/tlb/fork-cow-sibling-write.litmus');
  const fsrc = readFileSync(fork, 'utf8');
  const ok = checkSource(fsrc, fork, { model: 'x86' });
  assert.equal(ok.result.complete, true);
  assert.equal(ok.observation, 'Never');
  assert.deepEqual(ok.result.assertions, []);
  // Without flush_tlb_mm(oldmm) the parent's sibling writes 2 into the frame the child maps.
  const noFlush = checkSource(fsrc, fork, { model: 'x86', variant: 'no-fork-flush' });
  assert.equal(noFlush.observation, 'Sometimes');
  const cow = join(ROOT, 'scenarios/tlb/cow-stale-read.litmus');
  const csrc = readFileSync(cow, 'utf8');
  assert.equal(checkSource(csrc, cow, { model: 'x86' }).observation, 'Never');
  assert.equal(checkSource(csrc, cow, { model: 'x86', variant: 'no-wp-copy-flush' }).observation, 'Sometimes');
  // A scenario that forks and reclaims a page is refused: the rmap walk covers one mapping.
  const both = L('C t', '{ a = 1; }', 'smpcheck { mmap a; kthread P1; cpu 0 runs P0 P2; cpu 1 runs P1; }',
    'P0(int *a) { fork(P2); }', 'P1(int *a) { int r0; r0 = reclaim(a); }', 'P2(int *a) { int r0; r0 = READ_ONCE(*a); }', 'exists (2:r0=1)');
  assert.throws(() => checkSource(both, 't.litmus', { model: 'x86' }), (e: Error) => (e as Error & { code?: string }).code === 'SMP103' && /reclaim\(\) in a scenario that fork\(\)s/.test(e.message));
});

test('flush_tlb_batched_pending(): mprotect() after reclaim deferred its flush flushes first (3ea277194daa)', async () => {
  const file = join(ROOT, 'scenarios/tlb/mprotect-reclaim-pending.litmus');
  const src = readFileSync(file, 'utf8');
  const ok = checkSource(src, file, { model: 'x86' });
  assert.equal(ok.result.complete, true);
  assert.equal(ok.observation, 'Never');
  assert.deepEqual(ok.result.assertions, []);
  const before = await cli(['check', file, '--variant', 'pre-3ea277194daa', '--model', 'x86', '--show-trace', '--no-time']);
  assert.equal(before.code, 0, before.err);
  assert.match(before.out, /Observation mprotect-reclaim-pending Sometimes/);
  // The counterexample: reclaim defers the flush, mprotect() finds the PTE not present, and the write goes through.
  const trace = before.out.slice(before.out.indexOf('Trace'));
  const deferred = trace.search(/arch_tlbbatch_add_pending|inc_mm_tlb_gen/);
  const mprotect = trace.search(/mprotect\(page 0, PROT_READ\)/);
  const write = trace.search(/WRITE_ONCE\(a, 2\)[^\n]*TLB hit/);
  assert.ok(deferred >= 0 && mprotect >= 0 && write > mprotect, trace);
  // v6.18: the deferral is counted and found under the page-table lock.
  const fixed = await cli(['check', file, '--model', 'x86', '--no-time', '--show-trace', '--variant', 'v6.18']);
  assert.equal(fixed.code, 0, fixed.err);
});

test('a clean, old page: the read\'s walk sets the accessed bit, the write through the clean entry the dirty bit; `clean` names a mapped user page', async () => {
  const src = L(
    'C bits', '{ a = 1; }', 'smpcheck { mmap a; clean a; }',
    'P0(int *a) {', '\tint r0; int r1;', '\tr0 = READ_ONCE(*a);', '\tWRITE_ONCE(*a, 2);', '\tr1 = READ_ONCE(*a);', '}',
    'exists (0:r0=1 /\\ 0:r1=2 /\\ a=2)',
  );
  const dir = mkdtempSync(join(tmpdir(), 'smpcheck-bits-'));
  const file = join(dir, 'bits.litmus');
  writeFileSync(file, src);
  const traceFile = join(dir, 'bits.json');
  const r = await cli(['check', file, '--model', 'x86', '--trace', traceFile, '--no-time']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Observation bits Always/);
  const trace = readFileSync(traceFile, 'utf8');
  // The read misses and its walk sets the accessed bit; the write hits the clean entry
  // and sets the dirty bit; the second read hits the dirty entry and sets nothing.
  assert.match(trace, /"READ_ONCE[^}]*TLB miss: walk reads the PTE, frame 0; sets the accessed bit in the PTE/);
  assert.match(trace, /"WRITE_ONCE[^}]*TLB hit: frame 0; sets the dirty bit in the PTE/);
  assert.doesNotMatch(trace, /TLB hit: frame 0; sets the accessed bit/);
  const bad: [string, RegExp][] = [
    [src.replace('mmap a; clean a;', 'mmap a; clean b;'), /SMP108.*'b' is not a shared location/],
    [src.replace('{ a = 1; }', '{ a = 1; b = 0; }').replace('mmap a; clean a;', 'mmap a; clean b;'), /SMP108.*'b' is clean but not a user page/],
    [src.replace('{ a = 1; }', '{ a = 1; b = 0; }').replace('mmap a; clean a;', 'mmap a b; unmapped b; clean b;'), /SMP108.*'b' is both unmapped and clean/],
  ];
  for (const [text, msg] of bad) assert.throws(() => checkSource(text, 't.litmus', { model: 'x86' }), (e: Error) => msg.test(`${(e as Error & { code?: string }).code} ${e.message}`), String(msg));
});

test('S5: with early acknowledgment the write that set the dirty bit reaches the page after the flush returned and pageout() read it', async () => {
  const file = join(ROOT, 'scenarios/tlb/reclaim-dirty-bit.litmus');
  const r = await cli(['check', file, '--variant', 'async-flush', '--model', 'x86', '--show-trace', '--no-time']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Kernel assertion failed: S5: CPU0's write through a TLB entry older than a completed flush/);
  // The lost write (exists a=1): the condition's witness, in which S5 fails too.
  const c = checkSource(readFileSync(file, 'utf8'), file, { model: 'x86', variant: 'async-flush' });
  assert.ok(c.result.witnesses.positive, 'a run loses the write');
  const trace = renderTraceText(buildTrace(c, 'positive', c.result.witnesses.positive!), { width: 400 });
  const at = (re: RegExp): number => {
    const i = trace.search(re);
    assert.ok(i >= 0, `${re} in the trace`);
    return i;
  };
  const dirty = at(/WRITE_ONCE\(a, 2\) into the store buffer \[TLB hit: frame 0; sets the dirty bit in the PTE\]/);
  const collect = at(/ptep_get_and_clear\(page table 0: PTE of a\) read frame 0, wrote 0 \(locked\)/);
  const marked = at(/try_to_unmap_one\(\): pte_dirty\(pteval\): folio_mark_dirty\(\)/);
  const read = at(/pageout\(\): swap_writepage\(\) reads the folio \[frame 0\] = 1/);
  const late = at(/store buffer drains frame 0 = 2 to memory\s*\|?\s*\n\s*\|?.*!! WARN_ON: S5: CPU0's write through a TLB entry older than a completed flush reached memory after the flush returned \(frame 0\)/);
  // The witness of `exists (a=1)`: the write of 2 is lost.
  assert.ok(dirty < collect && collect < marked && marked < read && read < late);
});

test('page ageing: shrink() keeps a young folio, clears the accessed bit without a flush, and a later scan of an unused page reclaims it', async () => {
  // One thread never touches the page after the start: scan 1 finds the bit the fault
  // set (KEEP, PG_referenced), scan 2 finds it clear (RECLAIM); a read after that
  // faults and do_swap_page() brings the data back.
  const src = L(
    'C age', '{ a = 7; }', 'smpcheck { mmap a; kthread P1; }',
    'P0(int *a, int *d) { int r0; r0 = smp_load_acquire(d); if (r0 == 1) { r0 = READ_ONCE(*a); } }',
    'P1(int *a, int *d) { int r1; int r2; int r3; r1 = shrink(a); r2 = shrink(a); r3 = shrink(a); smp_store_release(d, 1); }',
    'exists (1:r1=0 /\\ 1:r2=1 /\\ 1:r3=0 /\\ 0:r0=7)',
  );
  const r = checkSource(src, 'age.litmus', { model: 'x86' });
  assert.equal(r.result.complete, true);
  assert.deepEqual(r.result.assertions, []);
  assert.equal(observedLabel(r), 'Sometimes');
  // Two scans of a page used in between (a walk after the clear sets the bit again):
  // the second scan finds PG_referenced and the bit, and activates; a third does not see it.
  const act = L(
    'C act', '{ a = 7; }', 'smpcheck { mmap a; kthread P1; }',
    'P0(int *a) { int r0; r0 = READ_ONCE(*a); }',
    'P1(int *a) { int r1; int r2; int r3; r1 = shrink(a); r2 = shrink(a); r3 = shrink(a); }',
    'exists (1:r1=0 /\\ 1:r2=0 /\\ 1:r3=0)',
  );
  const a = checkSource(act, 'act.litmus', { model: 'x86' });
  assert.equal(a.result.complete, true);
  assert.equal(observedLabel(a), 'Sometimes');
  // shrink() is kswapd's: a user thread calling it is a coded error.
  const user = act.replace(' kthread P1;', '');
  assert.throws(() => checkSource(user, 'act.litmus', { model: 'x86' }), (e: Error) => /^SMP109 shrink\(\) is for kernel threads/.test(`${(e as Error & { code?: string }).code} ${e.message}`));
});

test('the accessed bit cleared without a flush: a read through the kept TLB entry sets no bit, so the second scan reclaims a page in use', async () => {
  const file = join(ROOT, 'scenarios/tlb/witness-age-young-tlb.litmus');
  const src = readFileSync(file, 'utf8');
  const w = checkSource(src, file, { model: 'x86' });
  assert.equal(w.result.complete, true);
  assert.equal(observedLabel(w), 'Sometimes');
  assert.deepEqual(w.result.assertions, []);
  // The generic ptep_clear_flush_young() flushes: the read walks again and sets the bit.
  const g = checkSource(src, file, { model: 'x86', variant: 'clear-young-flush' });
  assert.equal(g.result.complete, true);
  assert.equal(observedLabel(g), 'Never');
  // The trace: scan 1 clears the bit with a locked op and no flush; P0's read after it is
  // a TLB hit that sets nothing; scan 2 reads the PTE old and reclaims.
  const r = await cli(['check', file, '--model', 'x86', '--show-trace', '--no-time']);
  assert.equal(r.code, 0, r.err);
  const trace = r.out.slice(r.out.indexOf('Trace'));
  const at = (re: RegExp, from = 0): number => {
    const i = trace.slice(from).search(re);
    assert.ok(i >= 0, `${re} in the trace`);
    return from + i;
  };
  const clear = at(/ptep_test_and_clear_young\(\): test_and_clear_bit\(_PAGE_BIT_ACCESSED\)/);
  const keep = at(/FOLIOREF_KEEP/, clear);
  const hit = at(/READ_ONCE\(a\) = 1 \[TLB hit: frame 0\]/, keep);
  const reclaim = at(/FOLIOREF_RECLAIM: no PTE referenced the folio/, hit);
  assert.ok(clear < keep && keep < hit && hit < reclaim);
  assert.doesNotMatch(trace.slice(clear, reclaim), /flush_tlb_mm_range|sets the accessed bit/);
});

test('reclaim after the missed use: the unmap flush keeps data and translations safe; without it a use after free', async () => {
  const file = join(ROOT, 'scenarios/tlb/age-reclaim-stale.litmus');
  const src = readFileSync(file, 'utf8');
  const ok = checkSource(src, file, { model: 'x86' });
  assert.equal(ok.result.complete, true);
  assert.equal(observedLabel(ok), 'Never');
  assert.deepEqual(ok.result.assertions, []);
  const bad = checkSource(src, file, { model: 'x86', variant: 'no-unmap-flush' });
  assert.equal(bad.result.complete, true);
  assert.ok(bad.result.assertions.some((a) => a.name.startsWith('UAF: CPU0 reached page frame 0 through a TLB entry made before the kernel freed the frame')), JSON.stringify(bad.result.assertions));
  assert.ok(bad.result.positive > 0);
});

test('a TLB hit depends on the lifetime of its frame: the search runs a hit after the frame is freed, and finds the use after free an unordered hit makes', async () => {
  // No flush, no IPI orders P0's reads against reclaim: only the hit's dependence on
  // its frame's lifetime (the free ends it) makes the search try P0's last read after
  // the frame is freed.
  const src = L(
    'C hit', '{ a = 1; }', 'smpcheck { mmap a; kthread P1; }',
    'P0(int *a) { int r0; int r1; r0 = READ_ONCE(*a); r1 = READ_ONCE(*a); }',
    'P1(int *a) { int r1; r1 = reclaim(a); }',
    'exists (0:r1=1)',
  );
  for (const reduction of [true, false]) {
    const r = checkSource(src, 'hit.litmus', { model: 'x86', variant: 'no-unmap-flush', reduction });
    assert.equal(r.result.complete, true);
    assert.ok(r.result.assertions.some((a) => a.name.startsWith('UAF:')), `reduction ${reduction}`);
  }
});

test('Xen PV: exit_mmap() unpins the pgd after xen_drop_mm_ref(); before abee7c494d8c text_poke() loads it again', async () => {
  const file = join(ROOT, 'scenarios/tlb/text-poke-xen-exit-mmap.litmus');
  const src = readFileSync(file, 'utf8');
  const fixed = checkSource(src, file, { model: 'x86' });
  assert.equal(fixed.result.complete, true);
  assert.equal(observedLabel(fixed), 'Never');
  assert.deepEqual(fixed.result.assertions, []);
  const buggy = checkSource(src, file, { model: 'x86', variant: 'pre-abee7c494d8c' });
  assert.equal(buggy.result.complete, true);
  const names = buggy.result.assertions.map((a) => a.name);
  assert.ok(names.includes('XEN: CPU1 loads the page tables of mm1, which xen_pgd_unpin() unpinned: the hypervisor refuses the new base pointer (MMUEXT_NEW_BASEPTR fails)'), JSON.stringify(names));
  // Natively the same runs break nothing: the assertion is Xen's.
  const native = checkSource(src.replace('\tconfig paravirt=xen-pv;\n', ''), file, { model: 'x86', variant: 'pre-abee7c494d8c' });
  assert.deepEqual(native.result.assertions, []);
  // The path: the last user's exit_mmap() reads CPU1's xen_current_cr3 as text_poke_mm's
  // (mm2), sends no IPI, unpins; then CPU1 switches back to mm1.
  const r = await cli(['check', file, '--variant', 'pre-abee7c494d8c', '--model', 'x86', '--show-trace', '--no-time']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /use_temporary_mm\(\): prev_mm = loaded_mm = mm1 \(lazy\)/);
  assert.match(r.out, /MMUEXT_UNPIN_TABLE, mm1->pgd/);
  // A config value it does not know is a coded error.
  assert.throws(() => checkSource(src.replace('paravirt=xen-pv;', 'paravirt=kvm;'), file, { model: 'x86' }), (e: Error) => /^SMP108 'config paravirt=' takes none or xen-pv/.test(`${(e as Error & { code?: string }).code} ${e.message}`));
});
