#!/usr/bin/env node
// The runbot command (package.json's bin, the image's entry point). Its commands live in src/cli/.
import { runCli } from './cli/program.js';

await runCli();
