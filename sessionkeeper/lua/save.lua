-- @uses failed parse_meta is_data_or_counter write_meta capped
-- Write only the fields a request changed, never recreating a session deleted meanwhile.
--
-- KEYS[1]  the session hash
-- ARGV     the header (_layout.lua), then: number of fields to set, number to delete,
--          '1' when the session was cleared (every data and counter field not set now goes),
--          (field, value, fingerprint) per field to set, (field, fingerprint) per field to
--          delete, then field, value pairs written without a check ('' deletes: device, meta)
-- A fingerprint is what the request loaded: '' when it had no value, '=' and the value itself
-- when that is short, else its SHA-1. A field whose current value matches neither it nor the
-- new value was changed by another request (a conflict, reported; this write wins).
--
-- One read (the timing and every checked field), one write of all the fields with the timing,
-- one expiry: the fewest calls a save can make.
-- Returns {'gone'} (deleted, expired or a tombstone), {'foreign'}, {'corrupt'} or {'ok', conflicting field, ...}.
local key = KEYS[1]
local to_set, to_delete = tonumber(ARGV[HEADER + 1]), tonumber(ARGV[HEADER + 2])
local first = HEADER + 4
local asked = {key, META, 'm:seen', 'm:abs', ENDED}
local index = first
for _ = 1, to_set do
  asked[#asked + 1] = ARGV[index]
  index = index + 3
end
for _ = 1, to_delete do
  asked[#asked + 1] = ARGV[index]
  index = index + 2
end
-- Lua's unpack has a C-stack limit of a few thousand values: a large save reads and writes in chunks.
local CHUNK = 400
local current = redis.pcall('HMGET', unpack(asked, 1, math.min(#asked, CHUNK)))
if failed(current) then
  return {'foreign'}
end
for i = CHUNK + 1, #asked, CHUNK do
  for _, value in ipairs(redis.call('HMGET', key, unpack(asked, i, math.min(i + CHUNK - 1, #asked)))) do
    current[#current + 1] = value
  end
end
local seen, absolute, version = parse_meta(current[1] or nil, current[2] or nil, current[3] or nil)
if not seen then
  if current[4] or redis.call('EXISTS', key) == 0 then
    return {'gone'}
  end
  return {'corrupt'}
end

local result = {'ok'}
local function check(field, now, fingerprint, new_value)
  if now == false then
    if fingerprint ~= '' then
      result[#result + 1] = field
    end
  elseif now ~= new_value then
    local loaded = string.sub(fingerprint, 1, 1) == '=' and string.sub(fingerprint, 2) or nil
    if (loaded and now ~= loaded) or (not loaded and redis.sha1hex(now) ~= fingerprint) then
      result[#result + 1] = field
    end
  end
end

if ARGV[HEADER + 3] == '1' then
  local cleared = {}
  for _, name in ipairs(redis.call('HKEYS', key)) do
    if is_data_or_counter(name) then
      cleared[#cleared + 1] = name
    end
  end
  for i = 1, #cleared, CHUNK do
    redis.call('HDEL', key, unpack(cleared, i, math.min(i + CHUNK - 1, #cleared)))
  end
end

local sets, deletes = {}, {}
index = first
for i = 1, to_set do
  local field, value = ARGV[index], ARGV[index + 1]
  check(field, current[4 + i], ARGV[index + 2], value)
  sets[#sets + 1] = field
  sets[#sets + 1] = value
  index = index + 3
end
for i = 1, to_delete do
  check(ARGV[index], current[4 + to_set + i], ARGV[index + 1], false)
  deletes[#deletes + 1] = ARGV[index]
  index = index + 2
end
while index < #ARGV do
  if ARGV[index + 1] == '' then
    deletes[#deletes + 1] = ARGV[index]
  else
    sets[#sets + 1] = ARGV[index]
    sets[#sets + 1] = ARGV[index + 1]
  end
  index = index + 2
end
for i = 1, #deletes, CHUNK do
  redis.call('HDEL', key, unpack(deletes, i, math.min(i + CHUNK - 1, #deletes)))
end
if #sets > CHUNK then
  for i = 1, #sets, CHUNK do
    redis.call('HSET', key, unpack(sets, i, math.min(i + CHUNK - 1, #sets)))
  end
  sets = {}
end
write_meta(key, NOW, capped(absolute), SESSION_IDLE, version, sets)
return result
