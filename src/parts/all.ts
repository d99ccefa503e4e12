// Both large parts (src/parts.ts), loaded by a static import: for code that checks
// any scenario synchronously without awaiting loadParts() first (the library entry
// src/index.ts, worker threads, tests).

import * as kernel from './kernel.js';
import * as graph from './graph.js';
import { provideParts } from '../parts.js';

provideParts({ kernel, graph });
