-- Fill a benchmark Redis with session hashes written as the engine writes them, at server speed.
-- Run after sessionkeeper's lua/_layout.lua (scale.py prepends it): the timing fields and the
-- expiry come from its write_meta, so the layout is not spelled out a second time here.
--
-- ARGV     the engine's header, then: key prefix, first index, how many, then the field, value
--          pairs of one session as the engine encoded them (scale.py asks the engine for them)
-- Returns how many hashes were written.
local prefix, first, count = ARGV[HEADER + 1], tonumber(ARGV[HEADER + 2]), tonumber(ARGV[HEADER + 3])
local template = {}
for i = HEADER + 4, #ARGV do
  template[#template + 1] = ARGV[i]
end
for index = first, first + count - 1 do
  -- A key shaped like layout 2's: a 16-character digest.
  local key = prefix .. ':{' .. string.sub(redis.sha1hex(tostring(index)), 1, 16) .. '}'
  redis.call('HSET', key, unpack(template))
  write_meta(key, NOW, capped(NOW + ABSOLUTE), SESSION_IDLE, nil)
end
return count
