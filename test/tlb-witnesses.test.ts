// The witness scenarios of scenarios/tlb/ (witness-*: a behaviour the kernel allows, shown
// to exist), their lines for the kernel as released, on both machines, with and without
// reduction (test/library-cases.ts). Apart from test/library-tlb.test.ts so that the
// library's TLB part is spread over more files, which `npm test` runs two at a time.

import { isTlbWitness, libraryFiles, libraryTests } from './library-cases.js';

libraryTests(libraryFiles().filter(isTlbWitness), 'released');
