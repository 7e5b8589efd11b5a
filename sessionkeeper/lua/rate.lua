-- @uses foreign
-- Count one session creation from a client address in a fixed window.
--
-- KEYS[1]  the address's creation counter
-- ARGV     the header (_layout.lua), then the window in ms
--
-- Returns {creations in this window, ms until the window ends}. A key holding something
-- this engine did not write is replaced.
local key = KEYS[1]
if foreign(key, 'string') or not tonumber(redis.call('GET', key) or '0') then
  redis.call('DEL', key)
end
local count = redis.call('INCR', key)
if count == 1 then
  redis.call('PEXPIRE', key, ARGV[HEADER + 1])
end
local left = redis.call('PTTL', key)
if left < 0 then
  redis.call('PEXPIRE', key, ARGV[HEADER + 1])
  left = tonumber(ARGV[HEADER + 1])
end
return {count, left}
