/**
 * reap-3: puts back at the front of the queue, in order, what dead consumers held (those whose
 * heartbeat key has expired), and forgets them. An acknowledgement they had not sent is lost
 * with them: those items (handed in their last event-loop turn) come again.
 *
 *   KEYS[1] items   KEYS[2] consumers   KEYS[3] signal
 *   ARGV[1] what a consumer's keys start with (…:queue:<name>:)
 *   returns how many items went back
 */
export const REAP = `
local n = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('EXISTS', ARGV[1] .. 'alive:' .. id) == 0 then
    local held = ARGV[1] .. 'held:' .. id
    local state = ARGV[1] .. 'state:' .. id
    local rest = redis.call('LRANGE', held, 0, -1)
    for i = #rest, 1, -1 do redis.call('LPUSH', KEYS[1], rest[i]) end
    n = n + #rest
    redis.call('DEL', held, state)
    redis.call('SREM', KEYS[2], id)
  end
end
if n > 0 then redis.call('RPUSH', KEYS[3], '1') redis.call('LTRIM', KEYS[3], -16, -1) end
return n
`;
