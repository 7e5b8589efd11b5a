-- Load one session in one round trip; slide its idle expiry only when that matters.
--
-- KEYS[1]  the session hash
-- ARGV     the header (_layout.lua), then: n, n field/value pairs describing who asks
--          (written only when the expiry slides, and in layout 2 only for a signed-in
--          session), then the kept names (a name ending in ':' is a prefix)
--
-- A read within THRESHOLD of the last recorded activity writes nothing; an older one
-- records the activity, so the idle timeout is exact to within THRESHOLD.
-- Returns {'hit', '1' when it slid else '0', field, value, ...} (as stored before), {'grace', kept field,
-- value, ...}, {'expired'}, {'miss'}, {'corrupt'} or {'foreign'}.
local key = KEYS[1]
if foreign(key, 'hash') then
  return {'foreign'}
end
local flat = redis.call('HGETALL', key)
if #flat == 0 then
  return {'miss'}
end
local fields = as_table(flat)
local seen, absolute, version = read_meta(fields)
if not seen then
  return {'corrupt'}
end

local devices = tonumber(ARGV[HEADER + 1])
local kept_names = {}
for i = HEADER + 2 + 2 * devices, #ARGV do
  kept_names[#kept_names + 1] = ARGV[i]
end
local idle = idle_of(fields, kept_names)

if NOW > seen + idle or NOW > absolute then
  -- Past a limit: the session (and its login) ends here, whatever the key's TTL says.
  redis.call('DEL', key)
  if NOW <= seen + idle + GRACE and NOW <= absolute + GRACE then
    local kept = {'grace'}
    for i = 1, #flat, 2 do
      if named(flat[i], kept_names) then
        kept[#kept + 1] = flat[i]
        kept[#kept + 1] = flat[i + 1]
      end
    end
    return kept
  end
  return {'expired'}
end

local slid = '0'
if NOW - seen >= THRESHOLD or version ~= LAYOUT then
  slid = '1'
  write_meta(key, NOW, absolute, idle, version)
  if LAYOUT == 1 or user_of(fields) then
    local changed = {}
    for i = HEADER + 2, HEADER + 1 + 2 * devices, 2 do
      if ARGV[i + 1] ~= '' and fields[ARGV[i]] ~= ARGV[i + 1] then
        changed[#changed + 1] = ARGV[i]
        changed[#changed + 1] = ARGV[i + 1]
      end
    end
    if #changed > 0 then
      redis.call('HSET', key, unpack(changed))
    end
  end
end
table.insert(flat, 1, slid)
table.insert(flat, 1, 'hit')
return flat
