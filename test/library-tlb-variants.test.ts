// The lines of scenarios/tlb/ for kernel variants (Result[x86,early-ack], a patch of a
// thread, an older kernel), with and without reduction (test/library-cases.ts); the lines
// for the kernel as released are in test/library-tlb.test.ts.

import { isTlb, libraryFiles, libraryTests } from './library-cases.js';

libraryTests(libraryFiles().filter(isTlb), 'variants');
