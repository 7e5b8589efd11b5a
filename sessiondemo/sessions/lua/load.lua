-- Load one session in one round trip and slide its idle expiry, all on the server.
--
-- KEYS[1]  the session hash
-- ARGV[1]  now in ms ('' = the server's clock), ARGV[2] idle ms, ARGV[3] absolute ms, ARGV[4] grace ms
-- ARGV[5]  instance, ARGV[6] client ip, ARGV[7] user agent ('' = leave as stored)
-- ARGV[8..] fields carried over an expiry: a name ending in ':' is a prefix, any other an exact field
--
-- Returns {'hit', field, value, ...} (as stored before this refresh), {'grace', carried field, value, ...},
-- {'expired'}, {'miss'} or {'corrupt'}.
local key = KEYS[1]
local now = clock_ms(ARGV[1])
local idle, absolute, grace = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])

local fields = redis.call('HGETALL', key)
if #fields == 0 then
  return {'miss'}
end

local seen, absolute_expiry
local stored = {}
for i = 1, #fields, 2 do
  local name = fields[i]
  if name == 'm:seen' then
    seen = tonumber(fields[i + 1])
  elseif name == 'm:abs' then
    absolute_expiry = tonumber(fields[i + 1])
  elseif name == 'm:ua' or name == 'm:ip' or name == 'm:inst' then
    stored[name] = fields[i + 1]
  end
end
if not seen or not absolute_expiry then
  return {'corrupt'}
end

local function carried(name)
  for j = 8, #ARGV do
    local wanted = ARGV[j]
    if string.sub(wanted, -1) == ':' then
      if string.sub(name, 1, #wanted) == wanted then
        return true
      end
    elseif name == wanted then
      return true
    end
  end
  return false
end

if now > seen + idle or now > absolute_expiry then
  -- Past a limit: the session (and its login) ends here, whatever the key's TTL says.
  redis.call('DEL', key)
  if now <= seen + idle + grace and now <= absolute_expiry + grace then
    local kept = {'grace'}
    for i = 1, #fields, 2 do
      if carried(fields[i]) then
        kept[#kept + 1] = fields[i]
        kept[#kept + 1] = fields[i + 1]
      end
    end
    return kept
  end
  return {'expired'}
end

redis.call('HSET', key, 'm:seen', string.format('%d', now))
-- Who is asking, for the "Active sessions" page: written only when it changed.
local asking = {['m:inst'] = ARGV[5], ['m:ip'] = ARGV[6], ['m:ua'] = ARGV[7]}
for name, value in pairs(asking) do
  if value ~= '' and value ~= stored[name] then
    redis.call('HSET', key, name, value)
  end
end
redis.call('PEXPIREAT', key, string.format('%d', math.min(now + idle + grace, absolute_expiry + grace)))
table.insert(fields, 1, 'hit')
return fields
