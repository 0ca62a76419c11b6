#!/usr/bin/env node
// Entry point for `npx tollgate`: runs the TypeScript CLI directly (Node >= 22.18 strips types).
import { cli } from '../src/cli.ts';

const code = await cli(process.argv.slice(2));
if (code >= 0) process.exit(code);
