// @govex/sdk
export {}
