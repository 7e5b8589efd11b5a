-- Write only the fields a request changed, never recreating a session deleted meanwhile.
--
-- KEYS[1]  the session hash
-- ARGV     the header (_layout.lua), then: number of fields to set, number to delete,
--          '1' when the session was cleared (every data and counter field not set now goes),
--          (field, value, fingerprint) per field to set, (field, fingerprint) per field to
--          delete, then field, value pairs written without a check ('' deletes: device, meta)
-- A fingerprint is the SHA-1 of the value the request loaded ('' when it had none): a field whose
-- current value matches neither it nor the new value was changed by another request (a conflict).
--
-- Returns {'gone'} (deleted, expired or a tombstone), {'foreign'}, {'corrupt'} or {'ok', conflicting field, ...}.
local key = KEYS[1]
local state = read_state(key)
if not state then
  return {'foreign'}
end
local seen, absolute, version = state.seen, state.absolute, state.version
if not seen then
  if state.ended or redis.call('EXISTS', key) == 0 then
    return {'gone'}
  end
  return {'corrupt'}
end
local to_set, to_delete = tonumber(ARGV[HEADER + 1]), tonumber(ARGV[HEADER + 2])
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

if ARGV[HEADER + 3] == '1' then
  for _, name in ipairs(redis.call('HKEYS', key)) do
    if is_data_or_counter(name) then
      redis.call('HDEL', key, name)
    end
  end
end

local index = HEADER + 4
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
local unchecked = {}
while index < #ARGV do
  unchecked[#unchecked + 1] = ARGV[index]
  unchecked[#unchecked + 1] = ARGV[index + 1]
  index = index + 2
end
write_pairs(key, unchecked)
write_meta(key, NOW, capped(absolute), SESSION_IDLE, version)
return result
