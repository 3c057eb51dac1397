export { redis, RedisLocation, type RedisLocationOptions } from './location';
