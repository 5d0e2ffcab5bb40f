// The Redis the end-to-end tests use: the same helpers as @govex/redis's own
// tests (GOVEX_TEST_REDIS_URL, a random prefix per test, a loud skip without
// Redis and a failure under CI=true).
export { REDIS_URL, needRedis, randomPrefix, deletePrefix } from '../../packages/redis/test/helpers/redis.js'
