// @govex/cli
export {}
