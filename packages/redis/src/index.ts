// @govex/redis
export {}
