-- Fill a benchmark Redis with session hashes shaped like the engine's, at server speed.
--
-- ARGV[1] key prefix, ARGV[2] first index, ARGV[3] how many, ARGV[4] now in ms, ARGV[5] lifetime in ms
-- Returns how many hashes were written.
local prefix, first, count = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local now, lifetime = tonumber(ARGV[4]), tonumber(ARGV[5])
local now_text = string.format('%d', now)
local absolute_text = string.format('%d', now + lifetime)
local expiry_text = string.format('%d', now + lifetime)
for index = first, first + count - 1 do
  local seed = tostring(index)
  local digest = redis.sha1hex(seed) .. string.sub(redis.sha1hex(seed .. '#'), 1, 24)
  local key = prefix .. ':s:{' .. digest .. '}'
  redis.call('HSET', key,
    'd:_auth_user_id', 'j"' .. seed .. '"',
    'd:_auth_user_backend', 'j"django.contrib.auth.backends.ModelBackend"',
    'd:_auth_user_hash', 'j"' .. redis.sha1hex(seed .. 'h') .. redis.sha1hex(seed .. 'i'):sub(1, 24) .. '"',
    'd:theme', 'j"dark"',
    'd:recently_viewed', 'j["CAK-003","COF-002","TEA-001"]',
    'c:cart:TEA-001', '2', 'c:cart:COF-002', '1', 'c:cart:CAK-003', '4',
    'm:created', now_text, 'm:seen', now_text, 'm:abs', absolute_text, 'm:v', '1',
    'm:ua', 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
    'm:ip', '198.51.100.7', 'm:inst', 'bench pid 1')
  redis.call('PEXPIREAT', key, expiry_text)
end
return count
