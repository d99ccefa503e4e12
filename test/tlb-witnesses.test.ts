// The witness scenarios of scenarios/tlb/ (witness-*: a behaviour the kernel allows, shown
// to exist), their lines for the kernel as released, on both machines, with and without
// reduction (test/library-cases.ts). Apart from test/library-tlb.test.ts so that the two
// processes of `npm run test:full` finish together: `node --test` starts the files in
// the order of their names, two at a time, and this one, the last, runs once the
// variants' file (the longest) is done, while the other process has the released TLB
// lines and then the rest of the library.

import { isTlbWitness, libraryFiles, libraryTests } from './library-cases.js';

libraryTests(libraryFiles().filter(isTlbWitness), 'released');
