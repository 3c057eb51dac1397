/**
 * push-3: appends a producer's batch, in order, as far as maxsize lets it.
 *
 *   KEYS[1] items   KEYS[2] unfinished   KEYS[3] signal
 *   ARGV[1] maxsize (0: no limit)   ARGV[2] '1' for a JoinableQueue (counts them unfinished)
 *   ARGV[3..] the items
 *   returns how many were appended (the first ones); the rest wait in the producer for space
 */
export const PUSH = `
local n = #ARGV - 2
local max = tonumber(ARGV[1])
if max > 0 then
  local room = max - redis.call('LLEN', KEYS[1])
  if room < n then n = math.max(room, 0) end
end
-- unpack() is bounded by Lua's C stack: append in slices.
for i = 3, n + 2, 4000 do
  redis.call('RPUSH', KEYS[1], unpack(ARGV, i, math.min(i + 3999, n + 2)))
end
if n > 0 then
  if ARGV[2] == '1' then redis.call('INCRBY', KEYS[2], n) end
  redis.call('RPUSH', KEYS[3], '1')
  redis.call('LTRIM', KEYS[3], -16, -1)
end
return n
`;
