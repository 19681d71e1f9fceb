export { PolicyCompiler, type CompilerStats, type WorkloadUpdateResult } from './engine.ts';
export { PolicyValidationError, UnknownIpSetError } from './errors.ts';
export { canonicalServices, type CanonicalServices } from './services.ts';
