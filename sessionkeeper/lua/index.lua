-- @uses foreign index_session indexed_sessions keep_account
-- Keep a user's session index: layout 3's entries in the account record (s:<digest> -> sign-in
-- seconds), or layouts 1 and 2's sorted set of session digests scored by sign-in ms.
--
-- KEYS[1]  the account record or the sorted set
-- ARGV     the header (_layout.lua), then: operation (add, remove or list), the most
--          sessions a user may keep (add), 'account' or 'zset', then digests (add: one; remove: any)
--
-- Entries older than any session can live are pruned on every call; past the cap the
-- oldest entries go first, and their digests are returned so that those sessions end
-- too (an entry dropped from the index would escape "sign out everywhere").
-- A key holding something this engine did not write is replaced.
-- Returns {status, digest, ...}: status 'ok' or 'foreign'; add: the digests dropped over the
-- cap; list: digest, sign-in ms pairs, oldest first.
local key = KEYS[1]
local operation, cap, kind = ARGV[HEADER + 1], tonumber(ARGV[HEADER + 2]), ARGV[HEADER + 3]
local status = 'ok'
if foreign(key, kind == 'account' and 'hash' or 'zset') then
  redis.call('DEL', key)
  status = 'foreign'
end
local reply = {status}

if kind == 'account' then
  if operation == 'add' then
    for _, digest in ipairs(index_session(key, ARGV[HEADER + 4], cap)) do
      reply[#reply + 1] = digest
    end
    keep_account(key)
  elseif operation == 'remove' then
    for i = HEADER + 4, #ARGV do
      redis.call('HDEL', key, INDEX .. ARGV[i])
    end
  elseif operation == 'list' then
    local listed = {}
    for digest, signed_in in pairs(indexed_sessions(key)) do
      listed[#listed + 1] = {digest, signed_in}
    end
    table.sort(listed, function(a, b)
      return a[2] < b[2] or (a[2] == b[2] and a[1] < b[1])
    end)
    for _, entry in ipairs(listed) do
      reply[#reply + 1] = entry[1]
      reply[#reply + 1] = string.format('%d', entry[2])
    end
  end
  return reply
end

local lifetime = ABSOLUTE + GRACE
redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('(%d', NOW - lifetime))
if operation == 'add' then
  redis.call('ZADD', key, string.format('%d', NOW), ARGV[HEADER + 4])
  local over = redis.call('ZCARD', key) - cap
  if over > 0 then
    for _, digest in ipairs(redis.call('ZRANGE', key, 0, over - 1)) do
      reply[#reply + 1] = digest
    end
    redis.call('ZREMRANGEBYRANK', key, 0, over - 1)
  end
  redis.call('PEXPIRE', key, lifetime)
elseif operation == 'remove' then
  for i = HEADER + 4, #ARGV do
    redis.call('ZREM', key, ARGV[i])
  end
elseif operation == 'list' then
  for _, value in ipairs(redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')) do
    reply[#reply + 1] = value
  end
end
return reply
