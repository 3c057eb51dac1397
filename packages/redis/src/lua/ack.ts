/**
 * ack-2: forgets the items a consumer handed to its program (the front of its held list). By
 * totals, not counts: the same call made twice acknowledges once.
 *
 *   KEYS[1] held:<id>   KEYS[2] state:<id>
 *   ARGV[1] items handed in all
 */
export const ACK = `
local acked = tonumber(redis.call('HGET', KEYS[2], 'acked') or '0')
local total = tonumber(ARGV[1])
if total > acked then
  redis.call('LPOP', KEYS[1], total - acked)
  redis.call('HSET', KEYS[2], 'acked', total)
end
return 0
`;
