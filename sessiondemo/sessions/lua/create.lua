-- Create a session atomically: fail when the hash already exists (a key collision).
--
-- KEYS[1]  the session hash
-- ARGV[1]  now in ms ('' = the server's clock), ARGV[2] idle ms, ARGV[3] absolute ms, ARGV[4] grace ms
-- ARGV[5..] field, value pairs (data, counters and meta)
--
-- Returns the creation time in ms, or 0 when the hash exists.
local key = KEYS[1]
if redis.call('EXISTS', key) == 1 then
  return 0
end
local now = clock_ms(ARGV[1])
local idle, absolute, grace = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local absolute_expiry = now + absolute

redis.call('HSET', key,
  'm:created', string.format('%d', now),
  'm:seen', string.format('%d', now),
  'm:abs', string.format('%d', absolute_expiry),
  'm:v', '1')
-- HSET in chunks: Lua's unpack has a C-stack limit of a few thousand values.
local chunk = {}
for i = 5, #ARGV do
  chunk[#chunk + 1] = ARGV[i]
  if #chunk == 200 then
    redis.call('HSET', key, unpack(chunk))
    chunk = {}
  end
end
if #chunk > 0 then
  redis.call('HSET', key, unpack(chunk))
end
redis.call('PEXPIREAT', key, string.format('%d', math.min(now + idle + grace, absolute_expiry + grace)))
return now
