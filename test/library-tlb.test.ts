// The TLB shootdown scenarios of the library (scenarios/tlb/), on both machines, with and
// without reduction (test/library-cases.ts): the largest reduced searches of the library,
// in a file of their own so that the test runner runs them beside the rest.

import { isTlb, libraryFiles, libraryTests } from './library-cases.js';

libraryTests(libraryFiles().filter(isTlb));
