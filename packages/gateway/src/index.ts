// @govex/gateway
export {}
