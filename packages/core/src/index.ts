// @govex/core: the pure domain of govex. Named re-exports only.
export * from './ids.js'
export * from './canonical.js'
export * from './codes.js'
export * from './problems.js'
export * from './validate.js'
export * from './schemas/index.js'
export * from './store/types.js'
