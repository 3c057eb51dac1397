/**
 * release-6: a consumer leaves: acknowledges what it handed and puts the rest of what it held
 * back at the front of the queue, in order.
 *
 *   KEYS[1] items   KEYS[2] held:<id>   KEYS[3] alive:<id>   KEYS[4] consumers
 *   KEYS[5] state:<id>   KEYS[6] signal
 *   ARGV[1] items handed in all   ARGV[2] consumer id
 *   returns how many went back
 */
export const RELEASE = `
local acked = tonumber(redis.call('HGET', KEYS[5], 'acked') or '0')
local total = tonumber(ARGV[1])
if total > acked then redis.call('LPOP', KEYS[2], total - acked) end
local rest = redis.call('LRANGE', KEYS[2], 0, -1)
for i = #rest, 1, -1 do redis.call('LPUSH', KEYS[1], rest[i]) end
if #rest > 0 then redis.call('RPUSH', KEYS[6], '1') redis.call('LTRIM', KEYS[6], -16, -1) end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[5])
redis.call('SREM', KEYS[4], ARGV[2])
return #rest
`;
