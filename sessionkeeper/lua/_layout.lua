-- The stored layout for Lua: prepended to every script by scripts.py (Redis scripts can't
-- include files). layout.py is its Python twin and documents the keys and fields.
--
-- Everything above the first '@part' line goes into every script; each '-- @part name: needs'
-- below is a helper that goes only into the scripts whose first line ('-- @uses ...') names it
-- or a part it needs: a closure made on every call of a script that never calls it is wasted.
--
-- The configuration (layout.CONFIGURATION), written in by scripts.py when it compiles a script,
-- one script per configuration: the layout to write (1, 2 or 3), idle ms of a signed-in (or
-- kept) session, anonymous idle ms, absolute ms, grace ms, slide threshold ms, how long an
-- account record lives (ms), how long a tombstone keeps the reason a session ended (ms).
local LAYOUT, IDLE, ANONYMOUS_IDLE, ABSOLUTE, GRACE, THRESHOLD, ACCOUNT_LIFETIME, TOMBSTONE_LIFETIME = {{CONFIGURATION}}

-- Every script's ARGV starts with the same header (layout.HEADER): now ms ('' = the server's
-- clock), cap ms (an absolute expiry set_expiry() asked for; '' = none), and this session's idle
-- ms as the caller worked it out ('' = the signed-in one); the script's own arguments follow
-- from ARGV[HEADER + 1].
local HEADER = 3
local NOW = tonumber(ARGV[1])
if not NOW then
  local time = redis.call('TIME')
  NOW = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local CAP = tonumber(ARGV[2])
local SESSION_IDLE = tonumber(ARGV[3]) or IDLE

local DATA, COUNTER, META, DEVICE, OPERATIONS, ENDED, INDEX = 'd:', 'c:', 'm', 'a', 'o', 'e', 's:'
local EXPIRY_FIELD = 'd:_session_expiry'

-- @part foreign
-- True when the key holds something this engine did not write (a string, a list, ...).
local function foreign(key, wanted)
  local kind = redis.call('TYPE', key)['ok']
  return kind ~= 'none' and kind ~= wanted
end

-- @part failed
-- A reply of redis.pcall that is an error: WRONGTYPE means the key holds another type.
local function failed(reply)
  return type(reply) == 'table' and reply['err'] ~= nil
end

-- @part is_data_or_counter
local function is_data_or_counter(name)
  local kind = string.sub(name, 1, 2)
  return kind == DATA or kind == COUNTER or name == 'u' or name == 'b' or name == 'h'
end

-- @part text
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

-- @part base36
-- Layouts 2 and 3 keep their times as whole seconds in base 36 (six digits until the year 2038+).
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

-- @part parse_meta
-- The packed meta 'm' (layouts 2, 3) or layout 1's m:seen and m:abs: last seen ms, absolute
-- expiry ms, version; nil when absent or garbled.
local function parse_meta(packed, seen_v1, absolute_v1)
  if packed then
    local version, seen, absolute = string.match(packed, '^(%d+)|(%w+)|(%w+)$')
    seen, absolute = tonumber(seen or '', 36), tonumber(absolute or '', 36)
    if version and seen and absolute then
      return seen * 1000, absolute * 1000, tonumber(version)
    end
    return nil
  end
  seen_v1, absolute_v1 = tonumber(seen_v1), tonumber(absolute_v1)
  if seen_v1 and absolute_v1 then
    return seen_v1, absolute_v1, 1
  end
  return nil
end

-- @part user_from: text
-- Layouts 2, 3's 'u' and layout 1's m:uid hold the user id bare; d:_auth_user_id is codec-encoded.
local function user_from(u, v1_user, encoded)
  if u and u ~= '' then
    return u
  end
  if v1_user and v1_user ~= '' then
    return v1_user
  end
  local user = text(encoded)
  if user and user ~= '' then
    return user
  end
  return nil
end

-- @part read_state: failed parse_meta user_from
-- What a writer needs of a session without reading the whole hash: {seen, absolute, version,
-- user, ended}, or nil (and the error) when the key holds another type.
local function read_state(key)
  local state = redis.pcall('HMGET', key, META, 'm:seen', 'm:abs', ENDED, 'u', 'm:uid', 'd:_auth_user_id')
  if failed(state) then
    return nil, state
  end
  local seen, absolute, version = parse_meta(state[1] or nil, state[2] or nil, state[3] or nil)
  return {
    seen = seen,
    absolute = absolute,
    version = version,
    ended = state[4] or nil,
    user = user_from(state[5] or nil, state[6] or nil, state[7] or nil),
  }
end

-- @part kept
-- KEEP's field names and counter prefixes: configuration, written in by scripts.py.
local KEPT = {{KEPT}}

-- @part named
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

-- @part capped
local function capped(absolute)
  if CAP then
    return math.min(absolute, CAP)
  end
  return absolute
end

-- @part write_meta: base36
local V1_META = {'m:created', 'm:seen', 'm:abs', 'm:v', 'm:ua', 'm:ip', 'm:inst', 'm:uid'}

-- Write the timing in the layout asked for, dropping the other layouts' meta; set the TTL.
-- ``extra``: field, value pairs written in the same HSET (a save's changed fields).
local function write_meta(key, seen, absolute, idle, existing, extra)
  extra = extra or {}
  if LAYOUT >= 2 then
    local packed = LAYOUT .. '|' .. base36(seen / 1000) .. '|' .. base36(math.max(absolute, 0) / 1000)
    redis.call('HSET', key, META, packed, unpack(extra))
    if existing == 1 then
      local user = redis.call('HGET', key, 'm:uid')
      redis.call('HDEL', key, unpack(V1_META))
      if user and user ~= '' and redis.call('HEXISTS', key, 'd:_auth_user_id') == 0 and redis.call('HEXISTS', key, 'u') == 0 then
        redis.call('HSET', key, 'u', user)
      end
    end
  else
    redis.call('HSET', key, 'm:seen', string.format('%d', seen), 'm:abs', string.format('%d', absolute), unpack(extra))
    if existing ~= 1 then -- a new session, or one written in layout 2 or 3
      redis.call('HDEL', key, META, DEVICE)
      redis.call('HSET', key, 'm:v', '1', 'm:created', string.format('%d', seen))
    end
  end
  redis.call('PEXPIREAT', key, string.format('%d', math.min(seen + idle + GRACE, absolute + GRACE)))
end

-- @part digest_of
-- A session's key ends in its digest (layout.session_hash_key); the account record indexes it by that.
local function digest_of(key)
  return string.match(key, '([^:{}]+)}?$')
end

-- @part bury
-- Replace a session by a tombstone: the reason it ended, kept a while for its cookie's holder.
local function bury(key, reason)
  redis.call('DEL', key)
  redis.call('HSET', key, ENDED, reason)
  redis.call('PEXPIRE', key, TOMBSTONE_LIFETIME)
end

-- @part indexed_sessions
-- The account record's index: {digest = sign-in ms}, and the set of merges its sessions made
-- ({merge id = true}), pruning entries older than any session lives. An entry is
-- 's:<digest>' -> '<sign-in seconds, base 36>', with '|<merge id>' when that sign-in merged a
-- guest's counters into the account: a second sign-in from the same guest session (a login
-- form sent twice) then merges nothing, for as long as the first session is indexed.
local function indexed_sessions(account)
  local sessions, merges, stale = {}, {}, {}
  local oldest = NOW - ABSOLUTE - GRACE
  local flat = redis.call('HGETALL', account)
  for i = 1, #flat, 2 do
    if string.sub(flat[i], 1, 2) == INDEX then
      local seconds, merge = string.match(flat[i + 1], '^(%w+)|?(.*)$')
      local signed_in = (tonumber(seconds or '', 36) or 0) * 1000
      if signed_in < oldest then
        stale[#stale + 1] = flat[i]
      else
        sessions[string.sub(flat[i], 3)] = signed_in
        if merge and merge ~= '' then
          merges[merge] = true
        end
      end
    end
  end
  if #stale > 0 then
    redis.call('HDEL', account, unpack(stale))
  end
  return sessions, merges
end

-- @part index_session: base36 indexed_sessions
-- Index a session in the account record (with the merge it made, if any). Past the cap the
-- oldest entries go, and their digests are returned so that the caller signs those sessions
-- out too (an entry dropped from the index would escape "sign out everywhere").
local function index_session(account, digest, cap, merge)
  redis.call('HSET', account, INDEX .. digest, base36(NOW / 1000) .. (merge and ('|' .. merge) or ''))
  local listed = {}
  for other, signed_in in pairs(indexed_sessions(account)) do
    listed[#listed + 1] = {other, signed_in}
  end
  local dropped = {}
  if #listed <= cap then
    return dropped
  end
  table.sort(listed, function(a, b)
    return a[2] < b[2] or (a[2] == b[2] and a[1] < b[1])
  end)
  for i = 1, #listed do
    if #dropped == #listed - cap then
      break
    end
    if listed[i][1] ~= digest then
      redis.call('HDEL', account, INDEX .. listed[i][1])
      dropped[#dropped + 1] = listed[i][1]
    end
  end
  return dropped
end

-- @part keep_account
-- Keep an account record for ACCOUNT_LIFETIME after its last change or sign-in.
local function keep_account(account)
  redis.call('PEXPIRE', account, ACCOUNT_LIFETIME)
end

-- @part answered
-- Earlier answers of counter operations, kept in a hash's 'o' field: 'id:k:value' or
-- 'id:l:value' (k: applied, l: refused at its limit), comma-separated, newest last.
-- Returns the status and value recorded for ``id``, or nil.
local function answered(recorded, id)
  for entry_id, status, value in string.gmatch(recorded, '([^:,]+):(%a):(%-?%d+)') do
    if entry_id == id then
      return status, tonumber(value)
    end
  end
  return nil
end

-- @part remember
-- Record an answer; as many as fit 64 bytes are kept (four or five), oldest dropped first.
local function remember(key, recorded, id, status, value)
  local entries = recorded .. (recorded == '' and '' or ',') .. id .. ':' .. status .. ':' .. value
  while #entries > 64 do
    local cut = string.find(entries, ',', 1, true)
    if not cut then
      break
    end
    entries = string.sub(entries, cut + 1)
  end
  redis.call('HSET', key, OPERATIONS, entries)
end
