-- Write only the fields a request changed, never recreating a session deleted meanwhile.
--
-- KEYS[1]  the session hash
-- ARGV[1]  now in ms ('' = the server's clock), ARGV[2] idle ms, ARGV[3] absolute ms, ARGV[4] grace ms
-- ARGV[5]  number of fields to set, ARGV[6] number of fields to delete
-- ARGV[7]  '1' when the session was cleared: every data and counter field not set now goes
-- then (field, value, fingerprint) per field to set, (field, fingerprint) per field to delete,
-- then meta field, value pairs written without a check.
-- A fingerprint is the SHA-1 of the value the request loaded ('' when it had none): a field whose
-- current value matches neither it nor the new value was changed by another request (a conflict).
--
-- Returns {'gone'} or {'ok', conflicting field, ...}.
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then
  return {'gone'}
end
local now = clock_ms(ARGV[1])
local idle, grace = tonumber(ARGV[2]), tonumber(ARGV[4])
local to_set, to_delete = tonumber(ARGV[5]), tonumber(ARGV[6])
local result = {'ok'}

local function check(field, fingerprint, new_value)
  local current = redis.call('HGET', key, field)
  if current == false then
    if fingerprint ~= '' then
      result[#result + 1] = field
    end
  elseif current ~= new_value and redis.sha1hex(current) ~= fingerprint then
    result[#result + 1] = field
  end
end

if ARGV[7] == '1' then
  for _, name in ipairs(redis.call('HKEYS', key)) do
    local kind = string.sub(name, 1, 2)
    if kind == 'd:' or kind == 'c:' then
      redis.call('HDEL', key, name)
    end
  end
end

local index = 8
for _ = 1, to_set do
  local field, value, fingerprint = ARGV[index], ARGV[index + 1], ARGV[index + 2]
  check(field, fingerprint, value)
  redis.call('HSET', key, field, value)
  index = index + 3
end
for _ = 1, to_delete do
  local field, fingerprint = ARGV[index], ARGV[index + 1]
  check(field, fingerprint, false)
  redis.call('HDEL', key, field)
  index = index + 2
end
while index < #ARGV do
  redis.call('HSET', key, ARGV[index], ARGV[index + 1])
  index = index + 2
end

redis.call('HSET', key, 'm:seen', string.format('%d', now))
local absolute_expiry = tonumber(redis.call('HGET', key, 'm:abs')) or (now + tonumber(ARGV[3]))
redis.call('PEXPIREAT', key, string.format('%d', math.min(now + idle + grace, absolute_expiry + grace)))
return result
