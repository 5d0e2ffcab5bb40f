// @govex/sdk: what agency developers embed — the consumer client and the provider plugin.
export * from './errors.js'
export * from './types.js'
export * from './client.js'
export * from './verify.js'
export * from './provider.js'
export * from './define.js'
