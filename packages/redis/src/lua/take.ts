import { REAP_FUNCTION } from './reap';

/**
 * take-6: acknowledges what a consumer handed to its program and moves its next batch from the
 * front of the queue to the end of its held list, where it stays until acknowledged (or, if the
 * consumer dies, until a reaper puts it back at the front).
 *
 *   KEYS[1] items   KEYS[2] held:<id>   KEYS[3] alive:<id>   KEYS[4] consumers
 *   KEYS[5] state:<id> (acked: items acknowledged in all; seq: the last take)   KEYS[6] signal
 *   ARGV[1] items handed in all (what exceeds `acked` is at the front of held)
 *   ARGV[2] how many to take   ARGV[3] heartbeat lapse (ms)   ARGV[4] consumer id
 *   ARGV[5] '1' on the consumer's first take   ARGV[6] events channel   ARGV[7] maxsize
 *   ARGV[8] this take's number: the same number again (the client repeated the call after a
 *           reconnect, or the consumer asks what it holds) takes nothing
 *   ARGV[9] what a consumer's keys start with: a take that finds the queue empty reaps first
 *   returns { 0, items taken }
 *           { 1, items taken }   the consumer's heartbeat had lapsed: what it held and had not
 *                                handed went back to the front of the queue (taken again here if
 *                                first in line); its counts start again from 0
 *           { 2, items held }    the take was repeated: everything held and not acknowledged
 */
export const TAKE = `${REAP_FUNCTION}
local acked = tonumber(redis.call('HGET', KEYS[5], 'acked') or '0')
local total = tonumber(ARGV[1])
if total > acked then
  redis.call('LPOP', KEYS[2], total - acked)
  redis.call('HSET', KEYS[5], 'acked', total)
end
local code = 0
if redis.call('EXISTS', KEYS[3]) == 0 then
  if ARGV[5] ~= '1' then
    code = 1
    local rest = redis.call('LRANGE', KEYS[2], 0, -1)
    for i = #rest, 1, -1 do redis.call('LPUSH', KEYS[1], rest[i]) end
    redis.call('DEL', KEYS[2])
  end
  redis.call('DEL', KEYS[5])
  redis.call('SADD', KEYS[4], ARGV[4])
elseif redis.call('HGET', KEYS[5], 'seq') == ARGV[8] then
  redis.call('PEXPIRE', KEYS[3], ARGV[3])
  return { 2, redis.call('LRANGE', KEYS[2], 0, -1) }
end
redis.call('SET', KEYS[3], '1', 'PX', ARGV[3])
redis.call('HSET', KEYS[5], 'seq', ARGV[8])
local xs = redis.call('LPOP', KEYS[1], ARGV[2])
if not xs and reap(KEYS[1], KEYS[4], KEYS[6], ARGV[9]) > 0 then xs = redis.call('LPOP', KEYS[1], ARGV[2]) end
if not xs then return { code, {} } end
for i = 1, #xs, 4000 do
  redis.call('RPUSH', KEYS[2], unpack(xs, i, math.min(i + 3999, #xs)))
end
-- More left: wake another blocked consumer.
if redis.call('LLEN', KEYS[1]) > 0 then redis.call('RPUSH', KEYS[6], '1') redis.call('LTRIM', KEYS[6], -16, -1) end
if tonumber(ARGV[7]) > 0 then redis.call('PUBLISH', ARGV[6], 'space') end
return { code, xs }
`;
