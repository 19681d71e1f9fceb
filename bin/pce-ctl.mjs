#!/usr/bin/env node
// npx pce-ctl ...: runs the TypeScript CLI through tsx (Node 24 comes first on PATH via the node@24 devDependency).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/pce-ctl.ts');
process.exitCode = await main(process.argv);
