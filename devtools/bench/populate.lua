-- @uses write_meta capped index_session keep_account
-- Fill a benchmark Redis with signed-in sessions written as the engine writes them, at server speed.
-- Compiled with sessionkeeper's lua/_layout.lua (scale.py asks scripts.py): the timing fields, the
-- expiry, the key names and the account record come from it and from layout.py, so the layout
-- is not spelled out a second time here.
--
-- ARGV     the engine's header, then: key prefix, first index, how many, s, s field/value items of
--          one session as the engine encoded them (scale.py asks the engine for them), then the
--          field/value items its account record holds besides the index (layout 3: the cart)
-- Session i belongs to user 1000000 + i: layout 3 tags its key with the user, and the user's
-- account record holds its cart and indexes the session; layouts 1-2 key it by its digest alone.
-- Returns how many sessions were written.
local prefix, first, count = ARGV[HEADER + 1], tonumber(ARGV[HEADER + 2]), tonumber(ARGV[HEADER + 3])
local size = tonumber(ARGV[HEADER + 4])
local session, account = {}, {}
for i = HEADER + 5, HEADER + 4 + size do
  session[#session + 1] = ARGV[i]
end
for i = HEADER + 5 + size, #ARGV do
  account[#account + 1] = ARGV[i]
end
for index = first, first + count - 1 do
  local user = tostring(1000000 + index)
  local digest = string.sub(redis.sha1hex(tostring(index)), 1, 16)
  local key = prefix .. ':{' .. digest .. '}'
  if LAYOUT >= 3 then
    key = prefix .. ':{' .. user .. '}:' .. digest
  end
  redis.call('HSET', key, unpack(session))
  redis.call('HSET', key, 'u', user)
  write_meta(key, NOW, capped(NOW + ABSOLUTE), SESSION_IDLE, nil)
  if LAYOUT >= 3 then
    local record = prefix .. ':a:u:{' .. user .. '}'
    if #account > 0 then
      redis.call('HSET', record, unpack(account))
    end
    index_session(record, digest, 100, nil)
    keep_account(record)
  end
end
return count
