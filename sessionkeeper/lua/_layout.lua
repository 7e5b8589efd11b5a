-- The stored layout for Lua: prepended to every script by scripts.py (Redis scripts can't
-- include files). layout.py is its Python twin and documents the fields.
--
-- Every script's ARGV starts with the same header (layout.HEADER):
--   now ms ('' = the server's clock), layout to write (1 or 2), idle ms of a signed-in
--   (or kept) session, anonymous idle ms, absolute ms, grace ms, slide threshold ms,
--   cap ms (an absolute expiry set_expiry() asked for; '' = none), and this session's
--   idle ms as the caller worked it out ('' = the signed-in one)
-- and the script's own arguments follow from ARGV[HEADER + 1].

local HEADER = 9
local NOW
do
  NOW = tonumber(ARGV[1])
  if not NOW then
    local time = redis.call('TIME')
    NOW = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  end
end
local LAYOUT = tonumber(ARGV[2])
local IDLE, ANONYMOUS_IDLE = tonumber(ARGV[3]), tonumber(ARGV[4])
local ABSOLUTE, GRACE, THRESHOLD = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local CAP = tonumber(ARGV[8])
local SESSION_IDLE = tonumber(ARGV[9]) or IDLE

local DATA, COUNTER, META, DEVICE, OPERATIONS = 'd:', 'c:', 'm', 'a', 'o'
local V1_META = {'m:created', 'm:seen', 'm:abs', 'm:v', 'm:ua', 'm:ip', 'm:inst', 'm:uid'}
local ALIASES = {u = true, b = true, h = true}
local USER_FIELDS = {'u', 'd:_auth_user_id', 'm:uid'}
local EXPIRY_FIELD = 'd:_session_expiry'

-- True when the key holds something this engine did not write (a string, a list, ...).
local function foreign(key, wanted)
  local kind = redis.call('TYPE', key)['ok']
  return kind ~= 'none' and kind ~= wanted
end

local function is_data_or_counter(name)
  local kind = string.sub(name, 1, 2)
  return kind == DATA or kind == COUNTER or ALIASES[name] ~= nil
end

-- A stored string value as text: codec.py's 's' (plain) or 'j' (JSON) markers.
local function text(value)
  if not value then
    return nil
  end
  local marker, body = string.sub(value, 1, 1), string.sub(value, 2)
  if marker == 's' then
    return body
  elseif marker == 'j' then
    local ok, decoded = pcall(cjson.decode, body)
    if ok and (type(decoded) == 'string' or type(decoded) == 'number') then
      return tostring(decoded)
    end
    return nil
  end
  return nil
end

-- Layout 2 keeps its times as whole seconds in base 36 (six digits until the year 2038+).
local function base36(number)
  local digits, text = '0123456789abcdefghijklmnopqrstuvwxyz', ''
  number = math.floor(number)
  repeat
    local digit = number % 36
    text = string.sub(digits, digit + 1, digit + 1) .. text
    number = (number - digit) / 36
  until number == 0
  return text
end

-- fields: a table name -> value. Returns last seen ms, absolute expiry ms, version; nil when absent.
local function read_meta(fields)
  local packed = fields[META]
  if packed then
    local version, seen, absolute = string.match(packed, '^(%d+)|(%w+)|(%w+)$')
    seen, absolute = tonumber(seen or '', 36), tonumber(absolute or '', 36)
    if version and seen and absolute then
      return seen * 1000, absolute * 1000, tonumber(version)
    end
    return nil
  end
  local seen, absolute = tonumber(fields['m:seen']), tonumber(fields['m:abs'])
  if seen and absolute then
    return seen, absolute, 1
  end
  return nil
end

-- Layout 2's 'u' and layout 1's m:uid hold the user id bare; d:_auth_user_id is codec-encoded.
-- The timing of a session without reading the whole hash: read_meta's answers, or nil.
local function read_timing(key)
  local timing = redis.call('HMGET', key, META, 'm:seen', 'm:abs')
  return read_meta({[META] = timing[1] or nil, ['m:seen'] = timing[2] or nil, ['m:abs'] = timing[3] or nil})
end

local function user_of(fields)
  for _, name in ipairs(USER_FIELDS) do
    local user = fields[name]
    if name == 'd:_auth_user_id' then
      user = text(user)
    end
    if user and user ~= '' then
      return user
    end
  end
  return nil
end

local function as_table(flat)
  local fields = {}
  for i = 1, #flat, 2 do
    fields[flat[i]] = flat[i + 1]
  end
  return fields
end

-- A name ending in ':' is a prefix (a counter map), any other an exact field.
local function named(name, names)
  for _, wanted in ipairs(names) do
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

-- The idle timeout of a loaded session: the signed-in one once it holds a login or a kept
-- key, the anonymous one before; set_expiry(seconds) can only make it stricter.
local function idle_of(fields, kept_names)
  local idle = ANONYMOUS_IDLE
  if user_of(fields) then
    idle = IDLE
  else
    for name in pairs(fields) do
      if named(name, kept_names) then
        idle = IDLE
        break
      end
    end
  end
  local expiry = fields[EXPIRY_FIELD]
  if expiry and string.sub(expiry, 1, 1) == 'j' then
    local seconds = tonumber(string.sub(expiry, 2))
    if seconds and seconds ~= 0 then
      idle = math.min(idle, seconds * 1000)
    end
  end
  return idle
end

local function capped(absolute)
  if CAP then
    return math.min(absolute, CAP)
  end
  return absolute
end

-- Write the timing in the layout asked for, dropping the other layout's meta; set the TTL.
local function write_meta(key, seen, absolute, idle, existing)
  if LAYOUT >= 2 then
    redis.call('HSET', key, META, '2|' .. base36(seen / 1000) .. '|' .. base36(math.max(absolute, 0) / 1000))
    if existing == 1 then
      local user = redis.call('HGET', key, 'm:uid')
      redis.call('HDEL', key, unpack(V1_META))
      if user and user ~= '' and redis.call('HEXISTS', key, 'd:_auth_user_id') == 0 and redis.call('HEXISTS', key, 'u') == 0 then
        redis.call('HSET', key, 'u', user)
      end
    end
  else
    redis.call('HSET', key, 'm:seen', string.format('%d', seen), 'm:abs', string.format('%d', absolute))
    if existing ~= 1 then -- a new session, or one written in layout 2
      redis.call('HDEL', key, META, DEVICE)
      redis.call('HSET', key, 'm:v', '1', 'm:created', string.format('%d', seen))
    end
  end
  redis.call('PEXPIREAT', key, string.format('%d', math.min(seen + idle + GRACE, absolute + GRACE)))
end

-- Field, value pairs; an empty value deletes the field.
local function write_pairs(key, pairs_list)
  for i = 1, #pairs_list, 2 do
    if pairs_list[i + 1] == '' then
      redis.call('HDEL', key, pairs_list[i])
    else
      redis.call('HSET', key, pairs_list[i], pairs_list[i + 1])
    end
  end
end
