/**
 * reap(items, consumers, signal, prefix), a Lua function: puts back at the front of the queue, in
 * order, what dead consumers held (those whose heartbeat key has expired), and forgets them. An
 * acknowledgement they had not sent is lost with them: those items (handed in their last
 * event-loop turn) come again. Returns how many items went back.
 */
export const REAP_FUNCTION = `
local function reap(items, consumers, signal, prefix)
  local n = 0
  for _, id in ipairs(redis.call('SMEMBERS', consumers)) do
    if redis.call('EXISTS', prefix .. 'alive:' .. id) == 0 then
      local held = prefix .. 'held:' .. id
      local rest = redis.call('LRANGE', held, 0, -1)
      for i = #rest, 1, -1 do redis.call('LPUSH', items, rest[i]) end
      n = n + #rest
      redis.call('DEL', held, prefix .. 'state:' .. id)
      redis.call('SREM', consumers, id)
    end
  end
  if n > 0 then redis.call('RPUSH', signal, '1') redis.call('LTRIM', signal, -16, -1) end
  return n
end
`;

/**
 * reap-3: the reaper, on its own (a consumer's timer).
 *
 *   KEYS[1] items   KEYS[2] consumers   KEYS[3] signal
 *   ARGV[1] what a consumer's keys start with (…:queue:<name>:)
 *   returns how many items went back
 */
export const REAP = `${REAP_FUNCTION}
return reap(KEYS[1], KEYS[2], KEYS[3], ARGV[1])
`;
