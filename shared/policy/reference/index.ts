export { ReferenceCompiler, type ReferenceResult } from './reference-compiler.ts';
export { normalisePolicy, normaliseServices, type NormalisedPolicy, type NormalisedRule } from './normalise.ts';
