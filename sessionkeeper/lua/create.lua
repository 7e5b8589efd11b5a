-- Create a session atomically: refuse a key that exists (a collision).
--
-- KEYS[1]  the session hash
-- ARGV     the header (_layout.lua), then field, value pairs (data, counters, device)
--
-- Returns {'ok'}, {'exists'} or {'foreign'} (the key holds something else: also a collision).
local key = KEYS[1]
if foreign(key, 'hash') then
  return {'foreign'}
end
if redis.call('EXISTS', key) == 1 then
  return {'exists'}
end
-- HSET in chunks: Lua's unpack has a C-stack limit of a few thousand values.
local chunk = {}
for i = HEADER + 1, #ARGV do
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
return {'ok'}
