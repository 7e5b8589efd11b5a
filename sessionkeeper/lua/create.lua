-- @uses foreign write_meta capped indexed_sessions index_session keep_account digest_of
-- Create a session atomically: refuse a key that exists (a collision). For a layout-3 signed-in
-- session also, in the same slot: merge the guest's counters into the account once, and index it.
--
-- KEYS[1]  the session hash; KEYS[2] the account record of its user (layout 3, signed in)
-- ARGV     the header (_layout.lua), then: n, n field/value items (data, counters, device);
--          with KEYS[2]: the most sessions a user may keep, the merge's id (one per guest
--          session), then (counter field, amount, maximum) per guest counter to add to the account's
--
-- A merged counter becomes the sum, but never more than its maximum (nor less than it was).
-- A merge whose id an indexed session already made (the same login sent twice) is skipped.
-- Returns {'ok', d, d digests of sessions dropped over the cap, the account's counters as
-- field, value, ...; 'foreign' last when the account key held another type and was replaced},
-- {'exists'} or {'foreign'} (the session key holds something else: also a collision).
local key = KEYS[1]
if redis.call('EXISTS', key) == 1 then
  if foreign(key, 'hash') then
    return {'foreign'}
  end
  return {'exists'}
end
local count = tonumber(ARGV[HEADER + 1])
-- HSET in chunks: Lua's unpack has a C-stack limit of a few thousand values.
local chunk = {}
for i = HEADER + 2, HEADER + 1 + count do
  chunk[#chunk + 1] = ARGV[i]
  if #chunk == 200 then
    redis.call('HSET', key, unpack(chunk))
    chunk = {}
  end
end
if #chunk > 0 then
  redis.call('HSET', key, unpack(chunk))
end
write_meta(key, NOW, capped(NOW + ABSOLUTE), SESSION_IDLE, nil)
local account = KEYS[2]
if not account then
  return {'ok', 0}
end

local replaced = foreign(account, 'hash')
if replaced then
  redis.call('DEL', account)
end
local at = HEADER + 2 + count
local cap, merge = tonumber(ARGV[at]), ARGV[at + 1]
local _, merges = indexed_sessions(account)
if at + 2 > #ARGV or merges[merge] then
  merge = nil -- nothing to merge, or this guest session's counters already were
else
  for i = at + 2, #ARGV, 3 do
    local field, amount, maximum = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
    local current = tonumber(redis.call('HGET', account, field) or '0')
    if not current then -- not a number: not ours, replaced
      redis.call('HDEL', account, field)
      current = 0
    end
    local change = math.max(current, math.min(current + amount, maximum)) - current
    if change ~= 0 then
      redis.call('HINCRBY', account, field, change)
    end
  end
end
local dropped = index_session(account, digest_of(key), cap, merge)
keep_account(account)
local reply = {'ok', #dropped}
for _, digest in ipairs(dropped) do
  reply[#reply + 1] = digest
end
local flat = redis.call('HGETALL', account)
for i = 1, #flat, 2 do
  if string.sub(flat[i], 1, 2) == COUNTER then
    reply[#reply + 1] = flat[i]
    reply[#reply + 1] = flat[i + 1]
  end
end
if replaced then
  reply[#reply + 1] = 'foreign'
end
return reply
