// Every document schema of MODEL.md, for validation here and for the gateway to compile once.
export * from './common.js'
export * from './member.js'
export * from './directory.js'
export * from './plan.js'
export * from './envelope.js'
export * from './disclosure.js'
export * from './audit.js'
export * from './config.js'
