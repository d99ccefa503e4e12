// The TLB shootdown scenarios of the library (scenarios/tlb/), on both machines, with and
// without reduction (test/library-cases.ts): the largest reduced searches of the library,
// in files of their own so that the test runner runs them beside the rest. This file
// checks the lines for the kernel as released, but those of the witness scenarios
// (test/tlb-witnesses.test.ts); test/library-tlb-variants.test.ts those for variants
// (Result[x86,early-ack]), which take as long again without reduction.

import { isTlb, isTlbWitness, libraryFiles, libraryTests } from './library-cases.js';

libraryTests(libraryFiles().filter((f) => isTlb(f) && !isTlbWitness(f)), 'released');
