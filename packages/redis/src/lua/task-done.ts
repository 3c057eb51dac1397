/**
 * taskdone-1: marks items of a JoinableQueue done, never below zero, and tells joiners at zero.
 *
 *   KEYS[1] unfinished
 *   ARGV[1] how many   ARGV[2] events channel
 *   returns how many were marked (fewer than asked: taskDone() was called too many times)
 */
export const TASK_DONE = `
local u = tonumber(redis.call('GET', KEYS[1]) or '0')
local n = math.min(u, tonumber(ARGV[1]))
if n > 0 then u = redis.call('DECRBY', KEYS[1], n) end
if n > 0 and u == 0 then redis.call('PUBLISH', ARGV[2], 'joined') end
return n
`;
