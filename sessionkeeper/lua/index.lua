-- Keep a user's session index: a sorted set of session digests scored by sign-in ms.
--
-- KEYS[1]  the user's index
-- ARGV     the header (_layout.lua), then: operation (add, remove or list), the most
--          sessions a user may keep (add), then digests (add: one; remove: any number)
--
-- Entries older than any session can live are pruned on every call; past the cap the
-- oldest entries go first, and their digests are returned so that those sessions end
-- too (an entry dropped from the index would escape "sign out everywhere").
-- A key holding something this engine did not write is replaced.
-- Returns {status, digest, ...}: status 'ok' or 'foreign'; add: the digests dropped over the
-- cap; list: digest, sign-in ms pairs, oldest first.
local key = KEYS[1]
local status = 'ok'
if foreign(key, 'zset') then
  redis.call('DEL', key)
  status = 'foreign'
end
local operation, cap = ARGV[HEADER + 1], tonumber(ARGV[HEADER + 2])
local lifetime = ABSOLUTE + GRACE
redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('(%d', NOW - lifetime))
local reply = {status}
if operation == 'add' then
  redis.call('ZADD', key, string.format('%d', NOW), ARGV[HEADER + 3])
  local over = redis.call('ZCARD', key) - cap
  if over > 0 then
    for _, digest in ipairs(redis.call('ZRANGE', key, 0, over - 1)) do
      reply[#reply + 1] = digest
    end
    redis.call('ZREMRANGEBYRANK', key, 0, over - 1)
  end
  redis.call('PEXPIRE', key, lifetime)
elseif operation == 'remove' then
  for i = HEADER + 3, #ARGV do
    redis.call('ZREM', key, ARGV[i])
  end
elseif operation == 'list' then
  for _, value in ipairs(redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')) do
    reply[#reply + 1] = value
  end
end
return reply
