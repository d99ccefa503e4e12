#!/usr/bin/env node
// Entry point of the smpcheck command (compiled sources live in dist/).
import { main } from '../dist/src/cli/main.js';

process.exitCode = main(process.argv.slice(2));
