/**
 * open-3: joins the queue named by the keys, or makes it; refuses a name that holds something else.
 *
 *   KEYS[1] meta (hash: kind, maxsize)   KEYS[2] items (list)   KEYS[3] unfinished (string)
 *   ARGV[1] kind ('Queue' | 'JoinableQueue')
 *   ARGV[2] maxsize, or '' to take the queue's own
 *   returns the queue's maxsize
 *   errors  'WRONGKIND <key> <type>'  a key of the queue holds another type (not made by multiproc)
 *           'OTHERKIND <kind>'        the name is a queue of another kind
 *           'OTHERSIZE <maxsize>'     the name is a queue with another maxsize
 */
export const OPEN = `
local function check(key, want)
  local t = redis.call('TYPE', key).ok
  if t ~= 'none' and t ~= want then return redis.error_reply('WRONGKIND ' .. key .. ' ' .. t) end
  return nil
end
local bad = check(KEYS[1], 'hash') or check(KEYS[2], 'list') or check(KEYS[3], 'string')
if bad then return bad end
local kind = redis.call('HGET', KEYS[1], 'kind')
if not kind then
  if redis.call('EXISTS', KEYS[2]) == 1 then return redis.error_reply('WRONGKIND ' .. KEYS[2] .. ' list') end
  local m = ARGV[2] == '' and '0' or ARGV[2]
  redis.call('HSET', KEYS[1], 'kind', ARGV[1], 'maxsize', m)
  return tonumber(m)
end
if kind ~= ARGV[1] then return redis.error_reply('OTHERKIND ' .. kind) end
local m = redis.call('HGET', KEYS[1], 'maxsize')
if ARGV[2] ~= '' and ARGV[2] ~= m then return redis.error_reply('OTHERSIZE ' .. m) end
return tonumber(m)
`;
